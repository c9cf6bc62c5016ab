// Builds components directly (not the whole program) under Pulumi mocks and records every cloud (custom) resource's
// type, name and resolved inputs; component resources are logical and not recorded. The shared mocks
// (mocks.ts) give every type's state, the balancer's Compute resources included.

import * as pulumi from "@pulumi/pulumi";
import { mockState } from "./mocks.js";

export { FAKE_ADDRESS } from "./mocks.js";

export interface Recorded {
  type: string;
  name: string;
  inputs: Record<string, any>;
}

export interface Lookups<R> {
  byType(type: string): R[];
  /** The one resource of `type` (and `name`); throws unless there is exactly one. */
  one(type: string, name?: string): R;
}

/** Finders over recorded registrations, shared with program.ts. */
export function lookups<R extends { type: string; name: string }>(resources: R[]): Lookups<R> {
  return {
    byType: (type) => resources.filter((r) => r.type === type),
    one: (type, name) => {
      const found = resources.filter((r) => r.type === type && (name === undefined || r.name === name));
      if (found.length !== 1) throw new Error(`expected one ${type} ${name ?? ""}, found ${found.length}`);
      return found[0]!;
    },
  };
}

export interface ComponentRun<T> extends Lookups<Recorded> {
  resources: Recorded[];
  /** What `build` returned, with every Output in it resolved. */
  outputs: pulumi.Unwrap<T>;
}

/** Runs `build` in a fresh mocked stack and waits for every registration. `resources` receives the records as
 * they come, so a caller can still inspect them when `build` throws. */
export async function runComponents<T>(build: () => T, resources: Recorded[] = []): Promise<ComponentRun<T>> {
  await pulumi.runtime.setMocks(
    {
      newResource: ({ type, name, inputs, custom }) => {
        if (custom) resources.push({ type, name, inputs });
        return mockState(type, name, inputs);
      },
      call: ({ token }) => {
        throw new Error(`unexpected invoke ${token} in a unit test`);
      },
    },
    "mosaic-sms-gateway",
    "test",
    false,
  );
  try {
    const built = build();
    const outputs = await new Promise<pulumi.Unwrap<T>>((resolve) => pulumi.output(built).apply((v) => resolve(v as pulumi.Unwrap<T>)));
    return { resources, outputs, ...lookups(resources) };
  } finally {
    await pulumi.runtime.disconnect();
  }
}
