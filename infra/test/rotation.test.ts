// A key rotation, a key retirement and a region move, played through the program's real dependency graph: two
// runs of the program under mocks (before and after the config change) give what changes and in which order the
// engine may apply it (each resource waits for its dependencies; replaced resources are deleted last, Pulumi's
// create-before-delete). A model of Cloud Run and Mosaic then applies the changes one by one and checks, at each
// step, that the key Mosaic sends is accepted by every revision that can receive its request, and that Mosaic
// always points at a live service. The event log each test pins is the order of events.

import { describe, expect, test } from "vitest";
import { REGISTER_COMMAND } from "../mosaicRegistration.js";
import { mockServiceUri } from "./mocks.js";
import { runProgram, type ProgramRun, type Registered } from "./program.js";

const SERVICE = "gcp:cloudrunv2/service:Service";
const VERSION = "gcp:secretmanager/secretVersion:SecretVersion";
const COMMAND = "command:local:Command";
const PASSWORD = "random:index/randomPassword:RandomPassword";

const SECRET_SIG = "4dabf18193072939515e22adb298388d";
/** Inputs with every Pulumi secret wrapper removed, at any depth. */
function plain(value: any): any {
  if (Array.isArray(value)) return value.map(plain);
  if (value && typeof value === "object") {
    if (SECRET_SIG in value) return plain(value.value);
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  }
  return value;
}

/** Input changes a provider applies by replacing the resource (terraform-provider-google ForceNew, the command
 * SDK's replaceOnChanges, random's keepers); any other change is an in-place update. */
const REPLACING_INPUTS: Record<string, string[]> = {
  [PASSWORD]: ["keepers"],
  [VERSION]: ["secret", "secretData"],
  [SERVICE]: ["name", "location", "project"],
  [COMMAND]: ["triggers"],
  "gcp:secretmanager/secret:Secret": ["secretId", "replication"],
};

type Step = { op: "create" | "update" | "replace"; resource: Registered } | { op: "delete"; resource: Registered };

/** The steps from `before` to `after`, in an order the engine may take: dependencies first, deletes last. */
function plan(before: ProgramRun, after: ProgramRun): Step[] {
  const old = new Map(before.resources.map((r) => [r.urn, r]));
  const changed = new Map<string, Step>();
  for (const resource of after.resources) {
    if (resource.type.startsWith("mosaic-sms-gateway:index:")) continue;
    const previous = old.get(resource.urn);
    if (!previous) {
      changed.set(resource.urn, { op: "create", resource });
      continue;
    }
    const keys = [...new Set([...Object.keys(previous.inputs), ...Object.keys(resource.inputs)])];
    const diff = keys.filter((k) => JSON.stringify(plain(previous.inputs[k])) !== JSON.stringify(plain(resource.inputs[k])));
    if (diff.length === 0) continue;
    const replacing = diff.some((k) => (REPLACING_INPUTS[resource.type] ?? []).includes(k));
    changed.set(resource.urn, { op: replacing ? "replace" : "update", resource });
  }
  // A topological order over `dependencies`, stable in registration order.
  const ordered: Step[] = [];
  const done = new Set<string>();
  const visit = (urn: string) => {
    if (done.has(urn)) return;
    done.add(urn);
    const step = changed.get(urn);
    const resource = step?.resource ?? after.resources.find((r) => r.urn === urn);
    for (const dep of resource?.dependencies ?? []) visit(dep);
    if (step) ordered.push(step);
  };
  for (const urn of changed.keys()) visit(urn);
  const replacedOrGone = [
    ...ordered.filter((s) => s.op === "replace").map((s) => old.get(s.resource.urn)!),
    ...before.resources.filter((r) => !after.resources.some((a) => a.urn === r.urn) && !r.type.startsWith("mosaic-sms-gateway:index:")),
  ];
  return [...ordered, ...replacedOrGone.map((resource): Step => ({ op: "delete", resource }))];
}

interface World {
  /** Versions by id (the provider gives a replaced version a new one): their payload. */
  versions: Map<string, string>;
  /** Live services by URL: the keys their serving revision accepts. */
  services: Map<string, string[]>;
  mosaic: { uri: string; key: string };
  log: string[];
}

const serviceKey = (r: Registered) => mockServiceUri(r.inputs.name, r.inputs.location);
/** The service a registered URI (path included) reaches. */
const serviceOf = (uri: string) => new URL(uri).origin;
const versionKey = (r: Registered, generation: string) => `${r.name}@${generation}`;
const acceptedRef = (service: Registered) =>
  service.inputs.template.containers[0].envs.find((e: any) => e.name === "GATEWAY_API_KEY").valueSource.secretKeyRef;

/** The world as `run` leaves it after a successful `pulumi up`. */
function deployed(run: ProgramRun, generation: string): World {
  const versions = new Map(run.byType(VERSION).map((v) => [versionKey(v, generation), plain(v.inputs.secretData) as string]));
  const service = run.one(SERVICE);
  const accepted = versions.get(versionKey(versionFor(run, acceptedRef(service).secret), generation))!;
  const env = plain(run.one(COMMAND).inputs.environment);
  return {
    versions,
    services: new Map([[serviceKey(service), accepted.split(",")]]),
    mosaic: { uri: env.GATEWAY_URI, key: env.GATEWAY_API_KEY },
    log: [],
  };
}

function versionFor(run: ProgramRun, secretId: string): Registered {
  return run.byType(VERSION).find((v) => String(v.inputs.secret).endsWith(`/secrets/${secretId}`))!;
}

const short = (key: string) => key.slice(0, key.indexOf("G") + 2);

/** Applies the steps; throws at the first moment Mosaic's request would fail. */
function apply(world: World, steps: Step[], after: ProgramRun, generation: string): World {
  for (const { op, resource } of steps) {
    const label = `${op} ${resource.name}`;
    if (resource.type === VERSION && op !== "delete") {
      const data = plain(resource.inputs.secretData) as string;
      world.versions.set(versionKey(resource, generation), data);
      world.log.push(`${label} (${data.split(",").map(short).join(",")})`);
    } else if (resource.type === SERVICE && op === "update") {
      const accepted = world.versions.get(versionKey(versionFor(after, acceptedRef(resource).secret), generation))!.split(",");
      const old = world.services.get(serviceKey(resource))!;
      // During the rollout a request can reach either revision.
      for (const revision of [old, accepted]) {
        if (!revision.includes(world.mosaic.key)) throw new Error(`${label}: a revision refuses Mosaic's ${short(world.mosaic.key)}`);
      }
      world.services.set(serviceKey(resource), accepted);
      world.log.push(`${label}: the new revision accepts ${accepted.map(short).join(",")}`);
    } else if (resource.type === SERVICE && (op === "create" || op === "replace")) {
      const accepted = world.versions.get(versionKey(versionFor(after, acceptedRef(resource).secret), generation))!.split(",");
      world.services.set(serviceKey(resource), accepted);
      world.log.push(`${op} ${resource.name} in ${resource.inputs.location}: accepts ${accepted.map(short).join(",")}`);
    } else if (resource.type === SERVICE && op === "delete") {
      world.services.delete(serviceKey(resource));
      world.log.push(`delete ${resource.name} in ${resource.inputs.location}`);
    } else if (resource.type === COMMAND) {
      if (op !== "update") throw new Error(`${label}: the registration must be updated in place, never replaced or deleted`);
      expect(resource.inputs.update).toBe(REGISTER_COMMAND);
      const env = plain(resource.inputs.environment);
      // The PUT: Mosaic runs its challenge against the gateway at the new URI with the new key before accepting it.
      const target = world.services.get(serviceOf(env.GATEWAY_URI));
      if (!target) throw new Error(`${label}: no service at ${env.GATEWAY_URI}`);
      if (!target.includes(env.GATEWAY_API_KEY)) throw new Error(`${label}: the gateway refuses the key being registered`);
      world.mosaic = { uri: env.GATEWAY_URI, key: env.GATEWAY_API_KEY };
      world.log.push(`${label}: PUT ${short(env.GATEWAY_API_KEY)} to Mosaic`);
    } else if (resource.type === PASSWORD && op !== "delete") {
      world.log.push(`${label}`);
    } else if (op === "delete" && resource.type === VERSION) {
      world.log.push(`delete the old ${resource.name}`);
    }
    // After every step Mosaic's URI reaches a live service that accepts Mosaic's key.
    const called = world.services.get(serviceOf(world.mosaic.uri));
    if (!called) throw new Error(`after ${label}: Mosaic calls ${world.mosaic.uri}, which is gone`);
    if (!called.includes(world.mosaic.key)) throw new Error(`after ${label}: Mosaic's key is refused`);
  }
  return world;
}

describe("rotating the API key: raise apiKeyGeneration", () => {
  test("one pulumi up: the new key is served alongside the old one, then registered with one PUT", async () => {
    const before = await runProgram({ "mosaic-sms-gateway:apiKeyGeneration": "1" });
    const after = await runProgram({ "mosaic-sms-gateway:apiKeyGeneration": "2" });
    const world = apply(deployed(before, "1"), plan(before, after), after, "2");
    expect(world.log).toEqual([
      "create sms-gateway-api-key-even",
      "replace sms-gateway-api-key-version (smsgatewayapikeyevenG2)",
      "replace sms-gateway-accepted-api-keys-version (smsgatewayapikeyevenG2,smsgatewayapikeyoddG1)",
      "update sms-gateway: the new revision accepts smsgatewayapikeyevenG2,smsgatewayapikeyoddG1",
      "update mosaic-register: PUT smsgatewayapikeyevenG2 to Mosaic",
      "delete the old sms-gateway-api-key-version",
      "delete the old sms-gateway-accepted-api-keys-version",
    ]);
    expect(world.mosaic.key).toBe(plain(after.one(COMMAND).inputs.environment).GATEWAY_API_KEY);
  });

  test("the next rotation regenerates the other slot and keeps the key Mosaic holds until the PUT", async () => {
    const before = await runProgram({ "mosaic-sms-gateway:apiKeyGeneration": "2", "mosaic-sms-gateway:apiKeyRetiredGeneration": "1" });
    const after = await runProgram({ "mosaic-sms-gateway:apiKeyGeneration": "3", "mosaic-sms-gateway:apiKeyRetiredGeneration": "1" });
    const world = apply(deployed(before, "2"), plan(before, after), after, "3");
    expect(world.log.slice(0, 5)).toEqual([
      "replace sms-gateway-api-key-odd",
      "replace sms-gateway-api-key-version (smsgatewayapikeyoddG3)",
      "replace sms-gateway-accepted-api-keys-version (smsgatewayapikeyoddG3,smsgatewayapikeyevenG2)",
      "update sms-gateway: the new revision accepts smsgatewayapikeyoddG3,smsgatewayapikeyevenG2",
      "update mosaic-register: PUT smsgatewayapikeyoddG3 to Mosaic",
    ]);
  });

  test("then raising apiKeyRetiredGeneration drops the old key from the gateway and leaves Mosaic alone", async () => {
    const before = await runProgram({ "mosaic-sms-gateway:apiKeyGeneration": "2" });
    const after = await runProgram({ "mosaic-sms-gateway:apiKeyGeneration": "2", "mosaic-sms-gateway:apiKeyRetiredGeneration": "1" });
    const world = apply(deployed(before, "2"), plan(before, after), after, "2r");
    expect(world.log).toEqual([
      "replace sms-gateway-accepted-api-keys-version (smsgatewayapikeyevenG2)",
      "update sms-gateway: the new revision accepts smsgatewayapikeyevenG2",
      "delete the old sms-gateway-accepted-api-keys-version",
    ]);
  });

  test("rotating and retiring in one step is refused before anything changes (Mosaic would lose its key)", async () => {
    await expect(
      runProgram({ "mosaic-sms-gateway:apiKeyGeneration": "2", "mosaic-sms-gateway:apiKeyRetiredGeneration": "2" }),
    ).rejects.toThrow("mosaic-sms-gateway:apiKeyRetiredGeneration (2) must be below mosaic-sms-gateway:apiKeyGeneration (2)");
  });

  test("the model catches a gap: registering the new key before the gateway serves it fails", async () => {
    const before = await runProgram({ "mosaic-sms-gateway:apiKeyGeneration": "1" });
    const after = await runProgram({ "mosaic-sms-gateway:apiKeyGeneration": "2" });
    const steps = plan(before, after);
    const register = steps.findIndex((s) => s.resource.type === COMMAND);
    const service = steps.findIndex((s) => s.resource.type === SERVICE);
    const wrongOrder = [...steps];
    [wrongOrder[register], wrongOrder[service]] = [wrongOrder[service]!, wrongOrder[register]!];
    expect(() => apply(deployed(before, "1"), wrongOrder, after, "2")).toThrow("the gateway refuses the key being registered");
  });
});

describe("moving the gateway to another region", () => {
  test("the new service comes up beside the old one, Mosaic is moved with one PUT, then the old one goes", async () => {
    const before = await runProgram();
    const after = await runProgram({ "gcp:region": "europe-west1" });
    const world = apply(deployed(before, "1"), plan(before, after), after, "1");
    const log = world.log.filter((line) => /sms-gateway |mosaic-register/.test(`${line} `));
    expect(log).toEqual([
      "replace sms-gateway in europe-west1: accepts smsgatewayapikeyoddG1",
      "update mosaic-register: PUT smsgatewayapikeyoddG1 to Mosaic",
      "delete sms-gateway in us-central1",
    ]);
  });

  test("the model catches a dead end: deleting the old service before Mosaic is moved fails", async () => {
    const before = await runProgram();
    const after = await runProgram({ "gcp:region": "europe-west1" });
    const steps = plan(before, after);
    const deleteOld = steps.findIndex((s) => s.op === "delete" && s.resource.type === SERVICE);
    const register = steps.findIndex((s) => s.resource.type === COMMAND);
    const wrongOrder = [...steps.slice(0, register), steps[deleteOld]!, ...steps.slice(register).filter((_, i) => i + register !== deleteOld)];
    expect(() => apply(deployed(before, "1"), wrongOrder, after, "1")).toThrow("which is gone");
  });
});
