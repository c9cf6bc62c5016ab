// Names: the pure rule (infra/naming.ts), then the decision per resource under mocks — every id that must be
// unique in the project carries the stack, and what forces a replacement never makes the new resource collide
// with the old one (so no resource needs deleteBeforeReplace except the registration command).

import { describe, expect, test } from "vitest";
import { gcpName, NAME_LIMITS, stackNames } from "../naming.js";
import { runProgram, type ProgramRun } from "./program.js";

const SECRET = "gcp:secretmanager/secret:Secret";
const ACCOUNT = "gcp:serviceaccount/account:Account";
const SERVICE = "gcp:cloudrunv2/service:Service";
const REPOSITORY = "gcp:artifactregistry/repository:Repository";

describe("gcpName", () => {
  test.each([
    ["sms-gateway", "dev", undefined, 63, "sms-gateway-dev"],
    ["sms-gateway", "dev", "api-key", 255, "sms-gateway-dev-api-key"],
    ["sms-gateway", "Prod_EU", undefined, 63, "sms-gateway-prod-eu"],
    ["sms-gateway", "feature/ABC.12", "twilio-auth-token", 255, "sms-gateway-feature-abc-12-twilio-auth-token"],
    ["sms-gateway", "--x--", undefined, 63, "sms-gateway-x"],
    ["9lives", "dev", undefined, 63, "lives-dev"],
  ])("(%s, %s, %s, %i) is %s", (component, stack, purpose, max, expected) => {
    expect(gcpName(component, stack, purpose, max)).toBe(expected);
  });

  test("a name over the limit keeps a readable head and ends in a hash of the whole name", () => {
    const long = gcpName("sms-gateway", "european-production", undefined, NAME_LIMITS.serviceAccountId);
    expect(long).toHaveLength(30);
    expect(long).toMatch(/^sms-gateway-european-pr-[0-9a-f]{6}$/);
    // Two stacks that share the first 30 characters still get two ids.
    expect(gcpName("sms-gateway", "european-production-2", undefined, 30)).not.toBe(long);
  });

  test.each(Object.entries(NAME_LIMITS))("every %s id is valid whatever the stack", (_, max) => {
    for (const stack of ["dev", "Prod_EU", "x".repeat(100), "a-very-long-stack-name-for-europe-west-production-9"]) {
      const id = gcpName("sms-gateway", stack, "accepted-api-keys", max);
      expect(id.length).toBeLessThanOrEqual(max);
      expect(id).toMatch(/^[a-z]([-a-z0-9]*[a-z0-9])?$/);
    }
  });

  test("stackNames binds the component and the stack", () => {
    expect(stackNames("memorystore", "dev").id("cache", NAME_LIMITS.memorystoreInstance)).toBe("memorystore-dev-cache");
  });

  test("nothing left to name is an error, not an empty id", () => {
    expect(() => gcpName("--", "__", undefined, 63)).toThrow("no id can be made");
  });
});

/** Every id the project (or a region of it) must hold once, with the scope it must be unique in. */
function projectUniqueIds(run: ProgramRun): string[] {
  return [
    ...run.byType(SECRET).map((r) => `secret ${r.inputs.secretId}`),
    ...run.byType(ACCOUNT).map((r) => `service account ${r.inputs.accountId}`),
    ...run.byType(SERVICE).map((r) => `cloud run ${r.inputs.location}/${r.inputs.name}`),
    ...run.byType(REPOSITORY).map((r) => `registry ${r.inputs.location}/${r.inputs.repositoryId}`),
  ];
}

describe("names per stack", () => {
  test("every project-unique id carries the stack", async () => {
    expect(projectUniqueIds(await runProgram({}, "dev")).sort()).toEqual([
      "cloud run us-central1/sms-gateway-dev",
      "registry us-central1/sms-gateway-dev",
      "secret sms-gateway-dev-accepted-api-keys",
      "secret sms-gateway-dev-api-key",
      "secret sms-gateway-dev-twilio-auth-token",
      "service account sms-gateway-dev",
    ]);
  });

  test("two stacks in one project share no id", async () => {
    const dev = projectUniqueIds(await runProgram({}, "dev"));
    const prod = projectUniqueIds(await runProgram({}, "prod"));
    expect(dev.filter((id) => prod.includes(id))).toEqual([]);
  });

  test("a long stack name still yields valid ids", async () => {
    const run = await runProgram({}, "european-production-blue-green-canary");
    expect(run.one(ACCOUNT).inputs.accountId).toMatch(/^[a-z][-a-z0-9]{4,28}[a-z0-9]$/);
    expect(run.one(SERVICE).inputs.name.length).toBeLessThanOrEqual(49);
  });
});

describe("replacements never collide", () => {
  test("secret replication (immutable, so a replacement) changes every secret's id; the service then moves to the new ones", async () => {
    const automatic = await runProgram();
    const regional = await runProgram({ "mosaic-sms-gateway:secretReplicaLocations": "europe-west1,europe-west4" });
    const ids = (run: ProgramRun) => run.byType(SECRET).map((s) => s.inputs.secretId as string);
    for (const id of ids(regional)) {
      expect(ids(automatic)).not.toContain(id);
      expect(id).toMatch(/^sms-gateway-test-[a-z-]+-[0-9a-f]{6}$/);
    }
    for (const secret of regional.byType(SECRET)) {
      expect(secret.inputs.replication).toEqual({ userManaged: { replicas: [{ location: "europe-west1" }, { location: "europe-west4" }] } });
    }
    const refs = regional.one(SERVICE).inputs.template.containers[0].envs.filter((e: any) => e.valueSource);
    for (const env of refs) expect(ids(regional)).toContain(env.valueSource.secretKeyRef.secret);
  });

  test("a new region keeps the names: a service and a registry are unique per region, so the new ones stand beside the old", async () => {
    const central = await runProgram();
    const europe = await runProgram({ "gcp:region": "europe-west1" });
    for (const type of [SERVICE, REPOSITORY]) {
      expect(europe.one(type).inputs.location).toBe("europe-west1");
      expect(central.one(type).inputs.location).toBe("us-central1");
    }
    expect(europe.one(SERVICE).inputs.name).toBe(central.one(SERVICE).inputs.name);
    // Not regional, so not replaced at all.
    expect(europe.one(ACCOUNT).inputs.accountId).toBe(central.one(ACCOUNT).inputs.accountId);
    expect(europe.byType(SECRET).map((s) => s.inputs.secretId)).toEqual(central.byType(SECRET).map((s) => s.inputs.secretId));
  });

  test("only the registration command deletes before it replaces", async () => {
    const run = await runProgram();
    expect(run.resources.filter((r) => r.deleteBeforeReplace).map((r) => r.type)).toEqual(["command:local:Command"]);
  });
});
