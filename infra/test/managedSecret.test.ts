// The secret helper every component reuses: replication as the provider takes it, an id that changes with the
// replication (so a replacement never collides), and grants plus a propagation wait only where someone reads it.

import { describe, expect, test } from "vitest";
import type { SecretReplication } from "../config.js";
import { IAM_PROPAGATION_WAIT, replicatedSecretId, replicationInput } from "../managedSecret.js";
import { runProgram } from "./program.js";

describe("replication", () => {
  test.each<[SecretReplication, unknown]>([
    [{ kind: "automatic" }, { auto: {} }],
    [
      { kind: "user-managed", locations: ["europe-west1", "europe-west4"] },
      { userManaged: { replicas: [{ location: "europe-west1" }, { location: "europe-west4" }] } },
    ],
  ])("%o is given to the provider as %o", (replication, input) => {
    expect(replicationInput(replication)).toEqual(input);
  });

  test("the id stays for automatic replication and gains a hash of the locations otherwise", () => {
    expect(replicatedSecretId("gw-dev-token", { kind: "automatic" })).toBe("gw-dev-token");
    const eu = replicatedSecretId("gw-dev-token", { kind: "user-managed", locations: ["europe-west1", "europe-west4"] });
    expect(eu).toMatch(/^gw-dev-token-[0-9a-f]{6}$/);
    expect(replicatedSecretId("gw-dev-token", { kind: "user-managed", locations: ["europe-west4", "europe-west1"] })).toBe(eu);
    expect(replicatedSecretId("gw-dev-token", { kind: "user-managed", locations: ["europe-west1"] })).not.toBe(eu);
  });
});

describe("grants and the propagation wait", () => {
  test("a secret nobody reads gets no grant and no wait; a read one gets one grant and one wait per reader", async () => {
    const run = await runProgram();
    const byParent = (type: string, component: string) =>
      run.byType(type).filter((r) => r.parent.endsWith(`ManagedSecret::sms-gateway-${component}`));
    expect(byParent("gcp:secretmanager/secretIamMember:SecretIamMember", "api-key")).toEqual([]);
    expect(byParent("time:index/sleep:Sleep", "api-key")).toEqual([]);
    for (const read of ["accepted-api-keys", "twilio-auth-token"]) {
      expect(byParent("gcp:secretmanager/secretIamMember:SecretIamMember", read)).toHaveLength(1);
      const [sleep] = byParent("time:index/sleep:Sleep", read);
      expect(sleep!.inputs.createDuration).toBe(IAM_PROPAGATION_WAIT);
    }
    expect(IAM_PROPAGATION_WAIT).toBe("120s");
  });
});
