// Loads the real program (infra/index.ts) under mocks with a given stack configuration and records every
// resource registration, including what the mock callbacks do not see: dependencies, parent and options.

import * as pulumi from "@pulumi/pulumi";
import { vi } from "vitest";
import { lookups } from "./componentRun.js";
import { mocks } from "./mocks.js";

export interface Registered {
  type: string;
  name: string;
  urn: string;
  parent: string;
  inputs: Record<string, any>;
  dependencies: string[];
  deleteBeforeReplace: boolean;
  replaceOnChanges: string[];
  additionalSecretOutputs: string[];
}

export interface ProgramRun {
  resources: Registered[];
  /** The program module's exports (stack outputs), still as Outputs. */
  exports: Record<string, unknown>;
  /** The stack outputs, resolved. */
  outputs: Record<string, any>;
  byType(type: string): Registered[];
  one(type: string, name?: string): Registered;
}

export const BASE_CONFIG: Record<string, string> = {
  "gcp:project": "test-project",
  "gcp:region": "us-central1",
  "mosaic-sms-gateway:twilioAccountSid": `AC${"0".repeat(32)}`,
  "mosaic-sms-gateway:twilioAuthToken": "twilio-token-value-1234",
  "mosaic-sms-gateway:twilioFromNumber": "+15551234567",
  "mosaic-sms-gateway:mosaicClientId": "mosaic-client-id",
  "mosaic-sms-gateway:mosaicClientSecret": "mosaic-client-secret-5678",
};
/** Every secret key, as the engine lists the encrypted ones (PULUMI_CONFIG_SECRET_KEYS): tests that set one in
 * plain text leave it out of this list. */
export const SECRET_KEYS = ["twilioAuthToken", "mosaicClientSecret", "smcClientSecret", "telnyxApiKey"].map((k) => `mosaic-sms-gateway:${k}`);

/** Records every registration the mock monitor set by the last `setMocks` receives, with what the mock callbacks
 * do not see (dependencies, parent, options). Call it after `setMocks`, before the resources are built. */
export function recordRegistrations(): Registered[] {
  const resources: Registered[] = [];
  const monitor = pulumi.runtime.getMonitor() as any;
  const registerResource = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req: any, callback: any) => {
    resources.push({
      type: req.getType(),
      name: req.getName(),
      urn: monitor.newUrn(req.getParent(), req.getType(), req.getName()),
      parent: req.getParent(),
      inputs: pulumi.runtime.deserializeProperties(req.getObject()),
      dependencies: req.getDependenciesList(),
      deleteBeforeReplace: req.getDeletebeforereplace(),
      replaceOnChanges: req.getReplaceonchangesList(),
      additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
    });
    return registerResource(req, callback);
  };
  return resources;
}

/** `overrides` values of `undefined` remove a key from BASE_CONFIG. */
export async function runProgram(
  overrides: Record<string, string | undefined> = {},
  stack = "test",
  secretKeys: readonly string[] = SECRET_KEYS,
): Promise<ProgramRun> {
  const config = Object.fromEntries(
    Object.entries({ ...BASE_CONFIG, ...overrides }).filter((e): e is [string, string] => e[1] !== undefined),
  );
  pulumi.runtime.setAllConfig(config, [...secretKeys]);
  await pulumi.runtime.setMocks(mocks, "mosaic-sms-gateway", stack, false);
  const resources = recordRegistrations();

  vi.resetModules();
  try {
    const exports: Record<string, unknown> = { ...(await import("../index.js")) };
    const outputs = await new Promise<Record<string, any>>((resolve) => pulumi.output(exports).apply(resolve));
    return { resources, exports, outputs, ...lookups(resources) };
  } finally {
    // Waits for every outstanding registration, so each test sees the whole program.
    await pulumi.runtime.disconnect();
  }
}

export function isSecret(output: unknown): Promise<boolean> {
  return (output as { isSecret: Promise<boolean> }).isSecret;
}

const SECRET_SIG = "4dabf18193072939515e22adb298388d";

/** Inputs recorded by the mock monitor keep Pulumi's secret wrapper; this reports and removes it. */
export function unwrap(value: any): { secret: boolean; value: any } {
  if (value && typeof value === "object" && SECRET_SIG in value) return { secret: true, value: value.value };
  return { secret: false, value };
}
