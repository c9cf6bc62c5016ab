// Shared protection state (issue 11): the config's pure decisions (subnets, keys), and the program with
// `sharedState: redis` under mocks — Memorystore with AUTH and TLS, the VPC and Direct VPC egress, the AUTH string
// and the HMAC key in Secret Manager, the server CA and the URL in the environment, Deno allowed the instance.

import { beforeAll, describe, expect, test } from "vitest";
import { defaultSubnetCidr, parseCidr, subnetProblems } from "../protection.js";
import { networkPath, subnetworkPath } from "../sharedState.js";
import { parseWith, problemsOf } from "./configParse.js";
import { mockRedis, mockVersionNumber } from "./mocks.js";
import { runProgram, unwrap, type ProgramRun } from "./program.js";

const P = "mosaic-sms-gateway";
const SERVICE = "gcp:cloudrunv2/service:Service";
const REDIS = "gcp:redis/instance:Instance";
const NETWORK = "gcp:compute/network:Network";
const SUBNET = "gcp:compute/subnetwork:Subnetwork";
const VERSION = "gcp:secretmanager/secretVersion:SecretVersion";
const ACCESSOR = "gcp:secretmanager/secretIamMember:SecretIamMember";
const SLEEP = "time:index/sleep:Sleep";
const APIS = "gcp:projects/service:Service";
const PASSWORD = "random:index/randomPassword:RandomPassword";

describe("subnets the stack creates", () => {
  test.each([
    ["10.130.0.0/24", [176_291_840, 24]],
    ["192.168.4.0/26", [3_232_236_544, 26]],
    ["10.130.0.1/24", undefined],
    ["10.300.0.0/24", undefined],
    ["10.130.0.0", undefined],
  ])("parseCidr(%s)", (cidr, expected) => {
    expect(parseCidr(cidr)).toEqual(expected);
  });

  test("the default: 10.130.<i>.0/24, one per region, each room for 63 instances", () => {
    expect([0, 1, 2].map(defaultSubnetCidr)).toEqual(["10.130.0.0/24", "10.130.1.0/24", "10.130.2.0/24"]);
    expect(subnetProblems(["10.130.0.0/24", "10.130.1.0/24"], ["us-central1", "europe-west1"], 64)).toEqual([]);
  });

  test.each([
    [["10.130.0.0/24"], ["a1", "b1"], 10, `${P}:vpcSubnetCidrs must give one range per region (2: a1, b1), in that order (got 1)`],
    [["10.130.0.0/27"], ["us-central1"], 1, `${P}:vpcSubnetCidrs entry 1 (10.130.0.0/27, us-central1) holds 32 addresses: Direct VPC egress wants about 4 per instance (${P}:maxInstances 1), so /26 or larger`],
    [["10.130.0.0/24"], ["us-central1"], 100, `${P}:vpcSubnetCidrs entry 1 (10.130.0.0/24, us-central1) holds 256 addresses: Direct VPC egress wants about 4 per instance (${P}:maxInstances 100), so /23 or larger`],
    [["10.130.0.0/23", "10.130.1.0/24"], ["a1", "b1"], 10, `${P}:vpcSubnetCidrs entries 1 and 2 (10.130.0.0/23, 10.130.1.0/24) overlap`],
    [["ten/24"], ["a1"], 10, `${P}:vpcSubnetCidrs entry 1 must be an IPv4 range like 10.130.0.0/24 (got "ten/24")`],
  ])("%o in %o for %i instances", (cidrs, regions, max, message) => {
    expect(subnetProblems(cidrs, regions, max).join("\n")).toContain(message);
  });

  test("an existing network's paths", () => {
    expect(networkPath("shared", "p1")).toBe("projects/p1/global/networks/shared");
    expect(networkPath("projects/host-proj/global/networks/shared", "p1")).toBe("projects/host-proj/global/networks/shared");
    expect(subnetworkPath("projects/host-proj/global/networks/shared", "run", "europe-west1", "p1")).toBe(
      "projects/host-proj/regions/europe-west1/subnetworks/run",
    );
  });
});

describe("sharedState and protection keys", () => {
  const parse = parseWith;
  const problems = (values: Record<string, string>) => problemsOf(values).join("\n");

  test("memory by default; redis with every default", () => {
    expect(parse({}).protection).toEqual({ sharedState: { kind: "memory" }, settings: {} });
    expect(parse({ sharedState: "redis" }).protection.sharedState).toEqual({
      kind: "redis",
      redis: { tier: "BASIC", memorySizeGb: 1, version: "REDIS_7_2", connectMode: "DIRECT_PEERING" },
      vpc: { kind: "create", subnetCidrs: ["10.130.0.0/24"] },
    });
  });

  test("an existing network, its subnet named after it unless given", () => {
    expect(parse({ sharedState: "redis", vpcNetwork: "default" }).protection.sharedState).toMatchObject({
      vpc: { kind: "existing", network: "default", subnetwork: "default" },
    });
    expect(parse({ sharedState: "redis", vpcNetwork: "projects/host-p1/global/networks/shared", vpcSubnetwork: "run-egress" }).protection.sharedState).toMatchObject({
      vpc: { kind: "existing", network: "projects/host-p1/global/networks/shared", subnetwork: "run-egress" },
    });
  });

  test("the gateway's protection settings pass through when set, and only then", () => {
    expect(parse({ rateLimitPerNumber: "3/10m", allowedCountries: "US,CA", dedupeWindowSeconds: "120" }).protection.settings).toEqual({
      RATE_LIMIT_PER_NUMBER: "3/10m",
      ALLOWED_COUNTRIES: "US,CA",
      DEDUPE_WINDOW_S: "120",
    });
  });

  test.each([
    [{ sharedState: "postgres" }, `${P}:sharedState must be one of memory, redis`],
    [{ redisTier: "STANDARD_HA" }, `${P}:redisTier is only used with ${P}:sharedState redis`],
    [{ vpcNetwork: "default" }, `${P}:vpcNetwork is only used with ${P}:sharedState redis`],
    [{ sharedState: "redis", redisTier: "PREMIUM" }, `${P}:redisTier must be one of BASIC, STANDARD_HA`],
    [{ sharedState: "redis", redisMemorySizeGb: "0" }, `${P}:redisMemorySizeGb must be an integer from 1 to 300`],
    [{ sharedState: "redis", redisConnectMode: "PEERING" }, `${P}:redisConnectMode must be one of DIRECT_PEERING, PRIVATE_SERVICE_ACCESS`],
    [{ sharedState: "redis", vpcNetwork: "Default Net" }, `${P}:vpcNetwork must be a VPC network's name`],
    [{ sharedState: "redis", vpcNetwork: "default", vpcSubnetCidrs: "10.1.0.0/24" }, `${P}:vpcSubnetCidrs is only used when the stack creates the network`],
    [{ sharedState: "redis", vpcSubnetwork: "run" }, `${P}:vpcSubnetwork needs ${P}:vpcNetwork`],
    [{ sharedState: "redis", vpcSubnetCidrs: "10.1.0.0/28" }, `${P}:vpcSubnetCidrs entry 1 (10.1.0.0/28, us-central1) holds 16 addresses`],
    // The gateway's own rules, named by key.
    [{ rateLimitPerNumber: "5 per minute" }, `${P}:rateLimitPerNumber must be N/<duration> with s, m or h`],
    [{ allowedCountries: "US,XX" }, `${P}:allowedCountries entries #2 are not ISO 3166-1 alpha-2 codes`],
    [{ onUnknownRepeat: "maybe" }, `${P}:onUnknownRepeat must be send or suppress`],
    [{ dedupeWindowSeconds: "-1" }, `${P}:dedupeWindowSeconds must be a whole number of seconds`],
  ])("%o", (values, message) => {
    expect(problems(values)).toContain(message);
  });
});

const REDIS_CONFIG = { [`${P}:sharedState`]: "redis" };

describe("the program with sharedState: redis", () => {
  let run: ProgramRun;
  beforeAll(async () => {
    run = await runProgram(REDIS_CONFIG);
  });
  const container = () => run.one(SERVICE).inputs.template.containers[0];
  const env = (name: string) => container().envs.find((e: any) => e.name === name);

  test("one Memorystore instance: AUTH and in-transit encryption on, on the stack's network, protected like the service", () => {
    const instance = run.one(REDIS).inputs;
    expect(instance).toMatchObject({
      name: "sms-gateway-test",
      region: "us-central1",
      tier: "BASIC",
      memorySizeGb: 1,
      redisVersion: "REDIS_7_2",
      authEnabled: true,
      transitEncryptionMode: "SERVER_AUTHENTICATION",
      connectMode: "DIRECT_PEERING",
      authorizedNetwork: "projects/test-project/global/networks/sms-gateway-test",
      deletionProtection: true,
    });
  });

  test("a custom-mode network with one subnet in the service's region", () => {
    expect(run.one(NETWORK).inputs).toMatchObject({ name: "sms-gateway-test", autoCreateSubnetworks: false });
    expect(run.one(SUBNET).inputs).toMatchObject({
      name: "sms-gateway-test-us-central1",
      region: "us-central1",
      ipCidrRange: "10.130.0.0/24",
      network: "projects/test-project/global/networks/sms-gateway-test",
    });
  });

  test("the service joins the subnet with Direct VPC egress, private ranges only", () => {
    expect(run.one(SERVICE).inputs.template.vpcAccess).toEqual({
      egress: "PRIVATE_RANGES_ONLY",
      networkInterfaces: [
        {
          network: "projects/test-project/global/networks/sms-gateway-test",
          subnetwork: "projects/test-project/regions/us-central1/subnetworks/sms-gateway-test-us-central1",
        },
      ],
    });
  });

  test("REDIS_URL is rediss:// to the instance without a password; REDIS_CA_CERT its server CA", () => {
    const redis = mockRedis("us-central1");
    expect(env("REDIS_URL")).toEqual({ name: "REDIS_URL", value: `rediss://${redis.host}:6378` });
    expect(env("REDIS_CA_CERT")).toEqual({ name: "REDIS_CA_CERT", value: redis.serverCaCerts[0]!.cert.trim() });
  });

  test("the AUTH string and a generated PROTECTION_SECRET: Secret Manager, pinned, each with its grant", () => {
    const redis = mockRedis("us-central1");
    const password = run.byType(PASSWORD).find((p) => p.name === "sms-gateway-protection-secret")!;
    expect(password.inputs).toMatchObject({ length: 48, special: false });
    const service = run.one(SERVICE);
    for (const [variable, purpose] of [
      ["REDIS_PASSWORD", "redis-auth-us-central1"],
      ["PROTECTION_SECRET", "protection-secret"],
    ] as const) {
      const id = `sms-gateway-test-${purpose}`;
      const version = run.byType(VERSION).find((v) => String(v.inputs.secret).endsWith(`/secrets/${id}`))!;
      const data = unwrap(version.inputs.secretData);
      expect(data.secret).toBe(true);
      if (variable === "REDIS_PASSWORD") expect(data.value).toBe(redis.authString);
      else expect(data.value).toHaveLength(48);
      expect(env(variable)).toEqual({ name: variable, valueSource: { secretKeyRef: { secret: id, version: mockVersionNumber(data.value) } } });
      const grant = run.byType(ACCESSOR).find((g) => String(g.inputs.secretId).endsWith(`/secrets/${id}`))!;
      const sleep = run.byType(SLEEP).find((s) => s.dependencies.includes(grant.urn))!;
      expect(service.dependencies).toContain(sleep.urn);
    }
    const plain = container().envs.filter((e: any) => "value" in e).map((e: any) => e.value);
    expect(plain).not.toContain(redis.authString);
  });

  test("the service waits for the instance and its subnet; the instance for the APIs and the network", () => {
    const service = run.one(SERVICE);
    expect(service.dependencies).toContain(run.one(REDIS).urn);
    expect(service.dependencies).toContain(run.one(SUBNET).urn);
    const apis = run.byType(APIS);
    expect(apis.map((a) => a.inputs.service)).toEqual(expect.arrayContaining(["redis.googleapis.com", "compute.googleapis.com"]));
    expect(apis.map((a) => a.inputs.service)).not.toContain("servicenetworking.googleapis.com");
    for (const api of apis) expect(run.one(REDIS).dependencies).toContain(api.urn);
    expect(run.one(REDIS).dependencies).toContain(run.one(NETWORK).urn);
  });

  test("the Deno image may reach the instance's host:port, and nothing else new", () => {
    const allowNet = container().args.find((a: string) => a.startsWith("--allow-net="));
    expect(allowNet).toBe(`--allow-net=0.0.0.0:8080,*.twilio.com:443,${mockRedis("us-central1").host}:6378`);
  });
});

test("memory (the default) creates no network, instance or Redis variable", async () => {
  const run = await runProgram();
  for (const type of [REDIS, NETWORK, SUBNET]) expect(run.byType(type)).toEqual([]);
  const container = run.one(SERVICE).inputs.template.containers[0];
  expect(container.envs.map((e: any) => e.name).filter((n: string) => /^REDIS_|^PROTECTION_/.test(n))).toEqual([]);
  expect(run.one(SERVICE).inputs.template.vpcAccess).toBeUndefined();
});

test("private services access on the stack's network: an allocated range, the connection, the API, before the instance", async () => {
  const run = await runProgram({ ...REDIS_CONFIG, [`${P}:redisConnectMode`]: "PRIVATE_SERVICE_ACCESS", [`${P}:redisTier`]: "STANDARD_HA" });
  const range = run.one("gcp:compute/globalAddress:GlobalAddress");
  expect(range.inputs).toMatchObject({ purpose: "VPC_PEERING", addressType: "INTERNAL", prefixLength: 24 });
  const connection = run.one("gcp:servicenetworking/connection:Connection");
  expect(connection.inputs).toMatchObject({ service: "servicenetworking.googleapis.com", reservedPeeringRanges: [range.inputs.name] });
  expect(run.one(REDIS).inputs).toMatchObject({ connectMode: "PRIVATE_SERVICE_ACCESS", tier: "STANDARD_HA" });
  expect(run.one(REDIS).dependencies).toContain(connection.urn);
  expect(run.byType(APIS).map((a) => a.inputs.service)).toContain("servicenetworking.googleapis.com");
});

test("an existing network: nothing created for it, the instance and the service use its paths", async () => {
  const run = await runProgram({ ...REDIS_CONFIG, [`${P}:vpcNetwork`]: "shared", [`${P}:vpcSubnetwork`]: "run-egress" });
  expect(run.byType(NETWORK)).toEqual([]);
  expect(run.byType(SUBNET)).toEqual([]);
  expect(run.one(REDIS).inputs.authorizedNetwork).toBe("projects/test-project/global/networks/shared");
  expect(run.one(SERVICE).inputs.template.vpcAccess.networkInterfaces).toEqual([
    { network: "projects/test-project/global/networks/shared", subnetwork: "projects/test-project/regions/us-central1/subnetworks/run-egress" },
  ]);
});

test("deletionProtection false reaches the instance too, so pulumi destroy can remove it", async () => {
  const run = await runProgram({ ...REDIS_CONFIG, [`${P}:deletionProtection`]: "false" });
  expect(run.one(REDIS).inputs.deletionProtection).toBe(false);
});
