// The whole program across topologies (issue 14): one region registers exactly the resources it always did, and
// several regions put a service (and a Memorystore) in each behind the balancer, wait for the certificate and
// register https://{domain}{path}.

import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, test } from "vitest";
import { parse as parseYaml } from "yaml";
import { WAIT_COMMAND } from "../certificateWait.js";
import { FAKE_ADDRESS, mockRedis } from "./mocks.js";
import { MINIMAL, parseWith } from "./configParse.js";
import { runProgram, unwrap, type ProgramRun } from "./program.js";

const P = "mosaic-sms-gateway";
const SERVICE = "gcp:cloudrunv2/service:Service";
const NEG = "gcp:compute/regionNetworkEndpointGroup:RegionNetworkEndpointGroup";
const BACKEND = "gcp:compute/backendService:BackendService";
const CERT = "gcp:compute/managedSslCertificate:ManagedSslCertificate";
const RULE = "gcp:compute/globalForwardingRule:GlobalForwardingRule";
const COMMAND = "command:local:Command";
const REDIS = "gcp:redis/instance:Instance";
const SUBNET = "gcp:compute/subnetwork:Subnetwork";
const UPTIME = "gcp:monitoring/uptimeCheckConfig:UptimeCheckConfig";
const APIS = "gcp:projects/service:Service";

/**
 * Every resource the default stack registered before multi-region existed, from the program at ad430ef (issue 9's
 * last change) run under these same mocks. Any rename, re-parenting or removal here would replace a live resource.
 */
const BEFORE = [
  "ManagedSecret$gcp:secretmanager/secret:Secret::sms-gateway-accepted-api-keys",
  "ManagedSecret$gcp:secretmanager/secret:Secret::sms-gateway-api-key",
  "ManagedSecret$gcp:secretmanager/secret:Secret::sms-gateway-twilio-auth-token",
  "ManagedSecret$gcp:secretmanager/secretIamMember:SecretIamMember::sms-gateway-accepted-api-keys-reader-0",
  "ManagedSecret$gcp:secretmanager/secretIamMember:SecretIamMember::sms-gateway-twilio-auth-token-reader-0",
  "ManagedSecret$gcp:secretmanager/secretVersion:SecretVersion::sms-gateway-accepted-api-keys-version",
  "ManagedSecret$gcp:secretmanager/secretVersion:SecretVersion::sms-gateway-api-key-version",
  "ManagedSecret$gcp:secretmanager/secretVersion:SecretVersion::sms-gateway-twilio-auth-token-version",
  "ManagedSecret$time:index/sleep:Sleep::sms-gateway-accepted-api-keys-iam-propagation",
  "ManagedSecret$time:index/sleep:Sleep::sms-gateway-twilio-auth-token-iam-propagation",
  "MosaicRegistration$command:local:Command::mosaic-register",
  "MosaicRegistration::mosaic",
  "SmsGateway$docker-build:index:Image::sms-gateway-image",
  "SmsGateway$gcp:artifactregistry/repository:Repository::sms-gateway-images",
  "SmsGateway$gcp:cloudrunv2/service:Service::sms-gateway",
  "SmsGateway$gcp:projects/service:Service::sms-gateway-artifactregistry",
  "SmsGateway$gcp:projects/service:Service::sms-gateway-iam",
  "SmsGateway$gcp:projects/service:Service::sms-gateway-run",
  "SmsGateway$gcp:projects/service:Service::sms-gateway-secretmanager",
  "SmsGateway$gcp:serviceaccount/account:Account::sms-gateway-sa",
  "SmsGateway$mosaic-sms-gateway:index:ManagedSecret::sms-gateway-accepted-api-keys",
  "SmsGateway$mosaic-sms-gateway:index:ManagedSecret::sms-gateway-api-key",
  "SmsGateway$mosaic-sms-gateway:index:ManagedSecret::sms-gateway-twilio-auth-token",
  "SmsGateway$random:index/randomPassword:RandomPassword::sms-gateway-api-key-odd",
  "SmsGateway::sms-gateway",
].map((tail) => `urn:pulumi:test::${P}::${P}:index:${tail}`);

const urns = (run: ProgramRun) => run.resources.map((r) => r.urn).sort();

describe("one region (the default)", () => {
  test("with observability off, exactly the resources it always had: same types, names and parents", async () => {
    expect(urns(await runProgram({ [`${P}:observability`]: "false" }))).toEqual(BEFORE);
  });

  test("by default, those and only the Observability component's (and its two APIs): nothing replaced or removed", async () => {
    const run = await runProgram();
    const added = urns(run).filter((u) => !BEFORE.includes(u));
    expect(BEFORE.filter((u) => !urns(run).includes(u))).toEqual([]);
    for (const urn of added) {
      expect(urn, urn).toMatch(/Observability|::sms-gateway-(logging|monitoring)$/);
    }
  });

  test("no balancer, no certificate wait; the registered URI is the service's own; public ingress", async () => {
    const run = await runProgram();
    for (const type of [NEG, BACKEND, CERT, RULE]) expect(run.byType(type)).toEqual([]);
    expect(run.byType(COMMAND).map((c) => c.name)).toEqual(["mosaic-register"]);
    expect(run.outputs).toMatchObject({ url: "https://sms-gateway-test-abc123-uc.a.run.app/send-sms", address: null, certificateName: null, regions: ["us-central1"] });
    expect(run.one(SERVICE).inputs.ingress).toBe("INGRESS_TRAFFIC_ALL");
    expect(run.one(SERVICE).inputs.defaultUriDisabled).toBeUndefined();
  });
});

const TWO = {
  [`${P}:regions`]: JSON.stringify(["us-central1", "europe-west1"]),
  [`${P}:domain`]: "sms.example.com",
};

describe("two regions behind the balancer", () => {
  let run: ProgramRun;
  beforeAll(async () => {
    run = await runProgram({ ...TWO, [`${P}:sharedState`]: "redis" });
  });
  const byRegion = (region: string) => run.byType(SERVICE).find((s) => s.inputs.location === region)!;
  const env = (region: string, name: string) => byRegion(region).inputs.template.containers[0].envs.find((e: any) => e.name === name);

  test("a service per region, one name, reachable only through the balancer; gcp:region's keeps its logical name", () => {
    const services = run.byType(SERVICE);
    expect(services.map((s) => [s.name, s.inputs.location, s.inputs.name])).toEqual([
      ["sms-gateway", "us-central1", "sms-gateway-test"],
      ["sms-gateway-europe-west1", "europe-west1", "sms-gateway-test"],
    ]);
    for (const s of services) expect(s.inputs).toMatchObject({ ingress: "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER", defaultUriDisabled: true });
  });

  test("a serverless NEG per region in one backend, the certificate for the domain", () => {
    expect(run.byType(NEG).map((n) => [n.inputs.region, n.inputs.cloudRun.service])).toEqual([
      ["us-central1", "sms-gateway-test"],
      ["europe-west1", "sms-gateway-test"],
    ]);
    expect(run.one(BACKEND).inputs.backends).toHaveLength(2);
    expect(run.one(CERT).inputs.managed).toEqual({ domains: ["sms.example.com"] });
    expect(run.byType(APIS).map((a) => a.inputs.service)).toContain("compute.googleapis.com");
  });

  test("the certificate wait runs after the HTTPS forwarding rule, with the certificate's name, domain and address", () => {
    const wait = run.one(COMMAND, "certificate-wait");
    expect(wait.inputs.create).toBe(WAIT_COMMAND);
    expect(wait.inputs.environment).toEqual({
      CERTIFICATE_PROJECT: "test-project",
      CERTIFICATE_NAME: run.one(CERT).name,
      CERTIFICATE_DOMAIN: "sms.example.com",
      CERTIFICATE_ADDRESS: FAKE_ADDRESS,
    });
    expect(wait.inputs.triggers).toEqual([`projects/test-project/global/sslCertificates/${run.one(CERT).name}`]);
    const httpsRule = run.byType(RULE).find((r) => r.inputs.portRange === "443")!;
    expect(wait.dependencies).toContain(httpsRule.urn);
  });

  test("Mosaic gets https://{domain}{path}, only after both services, the balancer and the certificate wait", () => {
    const register = run.one(COMMAND, "mosaic-register");
    // The environment holds secrets, so the whole map arrives as a secret.
    expect(unwrap(register.inputs.environment).value.GATEWAY_URI).toBe("https://sms.example.com/send-sms");
    for (const s of run.byType(SERVICE)) expect(register.dependencies).toContain(s.urn);
    expect(register.dependencies).toContain(run.one(COMMAND, "certificate-wait").urn);
    expect(run.outputs).toMatchObject({
      url: "https://sms.example.com/send-sms",
      address: FAKE_ADDRESS,
      certificateName: run.one(CERT).name,
      regions: ["us-central1", "europe-west1"],
    });
  });

  test("every region's receipts and health go through the domain", () => {
    for (const region of ["us-central1", "europe-west1"]) {
      expect(env(region, "PUBLIC_BASE_URL")).toEqual({ name: "PUBLIC_BASE_URL", value: "https://sms.example.com" });
    }
    expect(run.one(UPTIME).inputs.monitoredResource.labels.host).toBe("sms.example.com");
  });

  test("a Memorystore and a subnet per region, each service on its own region's instance and AUTH secret", () => {
    expect(run.byType(REDIS).map((r) => r.inputs.region)).toEqual(["us-central1", "europe-west1"]);
    expect(run.byType(SUBNET).map((s) => [s.inputs.region, s.inputs.ipCidrRange])).toEqual([
      ["us-central1", "10.130.0.0/24"],
      ["europe-west1", "10.130.1.0/24"],
    ]);
    for (const region of ["us-central1", "europe-west1"]) {
      expect(env(region, "REDIS_URL").value).toBe(`rediss://${mockRedis(region).host}:6378`);
      expect(env(region, "REDIS_PASSWORD").valueSource.secretKeyRef.secret).toBe(`sms-gateway-test-redis-auth-${region}`);
      expect(byRegion(region).inputs.template.vpcAccess.networkInterfaces[0].subnetwork).toBe(
        `projects/test-project/regions/${region}/subnetworks/sms-gateway-test-${region}`,
      );
    }
    // One HMAC key for all: a duplicate moved to another region hashes to the same key shape.
    expect(env("us-central1", "PROTECTION_SECRET")).toEqual(env("europe-west1", "PROTECTION_SECRET"));
  });
});

test("a region list without gcp:region: the first listed service stands for the stack", async () => {
  const run = await runProgram({ [`${P}:regions`]: JSON.stringify(["europe-west1", "asia-northeast1"]), [`${P}:domain`]: "sms.example.com" });
  expect(run.byType(SERVICE).map((s) => s.name)).toEqual(["sms-gateway-europe-west1", "sms-gateway-asia-northeast1"]);
  expect(run.outputs.service).toBe("sms-gateway-test");
});

test("two regions without a domain: refused, naming the key", async () => {
  await expect(runProgram({ [`${P}:regions`]: JSON.stringify(["us-central1", "europe-west1"]) })).rejects.toThrow(
    `${P}:domain is required with two or more ${P}:regions`,
  );
});

test("Pulumi.yaml's defaults are the code's: a stack holding every declared default parses as one holding none", () => {
  const declared = (parseYaml(readFileSync(new URL("../../Pulumi.yaml", import.meta.url), "utf8")) as {
    config: Record<string, { default?: unknown }>;
  }).config;
  const defaults = Object.fromEntries(
    Object.entries(declared)
      .filter(([, spec]) => spec.default !== undefined)
      .map(([name, spec]) => [name, typeof spec.default === "object" ? JSON.stringify(spec.default) : String(spec.default)]),
  );
  // MINIMAL's own keys win over their empty defaults.
  expect(parseWith({ ...defaults, ...MINIMAL })).toEqual(parseWith({}));
});
