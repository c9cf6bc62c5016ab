// Policy over the whole program, loaded with config under Pulumi mocks: what a reviewer would check by hand.

import { beforeAll, describe, expect, test } from "vitest";
import { FAKE_API_KEY, FAKE_DIGEST } from "./mocks.js";
import { BASE_CONFIG, isSecret, runProgram, unwrap, type ProgramRun } from "./program.js";

const SERVICE = "gcp:cloudrunv2/service:Service";
const ACCESSOR = "gcp:secretmanager/secretIamMember:SecretIamMember";
const VERSION = "gcp:secretmanager/secretVersion:SecretVersion";
const SECRET = "gcp:secretmanager/secret:Secret";
const IMAGE = "docker-build:index:Image";
const REPOSITORY = "gcp:artifactregistry/repository:Repository";
const SECRET_VALUES = [FAKE_API_KEY, BASE_CONFIG["mosaic-sms-gateway:twilioAuthToken"]!];

function container(run: ProgramRun) {
  return run.one(SERVICE).inputs.template.containers[0];
}

describe("default stack", () => {
  let run: ProgramRun;
  beforeAll(async () => {
    run = await runProgram();
  });

  test("no env var carries a secret as a plain value", () => {
    for (const env of container(run).envs) {
      if ("value" in env) expect(SECRET_VALUES).not.toContain(env.value);
    }
    const names = container(run)
      .envs.filter((e: any) => "value" in e)
      .map((e: any) => e.name);
    expect(names).not.toContain("GATEWAY_API_KEY");
    expect(names).not.toContain("TWILIO_AUTH_TOKEN");
  });

  test("every secret env uses secretKeyRef pinned to its SecretVersion's version", () => {
    const refs = container(run).envs.filter((e: any) => e.valueSource);
    expect(refs.map((e: any) => e.name).sort()).toEqual(["GATEWAY_API_KEY", "TWILIO_AUTH_TOKEN"]);
    const versions = run.byType(VERSION);
    for (const env of refs) {
      const { secret, version } = env.valueSource.secretKeyRef;
      expect(version).toBe("3"); // the mock SecretVersion's `version`, not "latest"
      const owning = run.byType(SECRET).find((s) => s.inputs.secretId === secret);
      expect(owning, `secret ${secret} is created by the program`).toBeDefined();
      expect(versions.some((v) => String(v.inputs.secret).endsWith(`/secrets/${secret}`))).toBe(true);
    }
  });

  test("each accessor binding names one secret and the gateway's service account only", () => {
    const accessors = run.byType(ACCESSOR);
    expect(accessors).toHaveLength(2);
    const account = run.one("gcp:serviceaccount/account:Account");
    const email = `${account.inputs.accountId}@test-project.iam.gserviceaccount.com`;
    const secretIds = run.byType(SECRET).map((s) => `projects/p/secrets/${s.inputs.secretId}`);
    expect(accessors.map((a) => a.inputs.secretId).sort()).toEqual([...secretIds].sort());
    for (const a of accessors) {
      expect(a.inputs.role).toBe("roles/secretmanager.secretAccessor");
      expect(a.inputs.member).toBe(`serviceAccount:${email}`);
    }
    expect(run.one(SERVICE).inputs.template.serviceAccount).toBe(email);
    // Nothing project-wide.
    expect(run.resources.filter((r) => /projectIam/i.test(r.type))).toEqual([]);
  });

  test("the service depends on the accessor bindings and the secret versions", () => {
    const deps = run.one(SERVICE).dependencies;
    for (const r of [...run.byType(ACCESSOR), ...run.byType(VERSION)]) expect(deps).toContain(r.urn);
  });

  test("the apiKey output is secret and the URL includes the path", async () => {
    expect(await isSecret(run.exports.apiKey)).toBe(true);
    expect(run.outputs.url).toBe("https://sms-gateway-abc123-uc.a.run.app/send-sms");
    expect(run.outputs.apiKeySecret).toBe("projects/123456789012/secrets/sms-gateway-api-key");
    expect(run.outputs.serviceAccount).toMatch(/@test-project\.iam\.gserviceaccount\.com$/);
  });

  test("the API key is generated long and header-safe", () => {
    const password = run.one("random:index/randomPassword:RandomPassword").inputs;
    expect(password.length).toBeGreaterThanOrEqual(40);
    expect(password.overrideSpecial).toMatch(/^[-_]*$/);
  });

  test("startup and liveness probes hit /healthz", () => {
    const c = container(run);
    expect(c.startupProbe.httpGet.path).toBe("/healthz");
    expect(c.livenessProbe.httpGet.path).toBe("/healthz");
  });

  test("scaling, concurrency, timeout, CPU and deletion protection follow the defaults", () => {
    const { inputs } = run.one(SERVICE);
    expect(inputs.template.scaling).toEqual({ minInstanceCount: 1, maxInstanceCount: 10 });
    expect(inputs.template.maxInstanceRequestConcurrency).toBe(80);
    expect(inputs.template.timeout).toBe("30s");
    expect(container(run).resources).toMatchObject({ startupCpuBoost: true, cpuIdle: true });
    expect(inputs.deletionProtection).toBe(true);
    expect(inputs.invokerIamDisabled).toBe(true);
    expect(run.byType("gcp:cloudrunv2/serviceIamMember:ServiceIamMember")).toEqual([]);
    expect(container(run).envs).toContainEqual({ name: "CONCURRENCY", value: "80" });
  });

  test("the APIs are enabled, kept on destroy, and the rest depends on them", () => {
    const apis = run.byType("gcp:projects/service:Service");
    expect(apis.map((a) => a.inputs.service).sort()).toEqual([
      "artifactregistry.googleapis.com",
      "iam.googleapis.com",
      "run.googleapis.com",
      "secretmanager.googleapis.com",
    ]);
    for (const api of apis) expect(api.inputs.disableOnDestroy).toBe(false);
    for (const type of [SERVICE, SECRET, REPOSITORY]) {
      for (const r of run.byType(type)) for (const api of apis) expect(r.dependencies).toContain(api.urn);
    }
  });

  test("the Deno image (the default runtime) is built, pushed to the new registry and deployed by digest", () => {
    const image = run.one(IMAGE).inputs;
    expect(image.dockerfile.location).toMatch(/gateway\/Dockerfile\.deno$/);
    expect(image.push).toBe(true);
    expect(image.platforms).toEqual(["linux/amd64"]);
    const registries = unwrap(image.registries);
    expect(registries.secret, "the registry token is kept secret").toBe(true);
    expect(registries.value[0]).toMatchObject({ address: "us-central1-docker.pkg.dev", username: "oauth2accesstoken" });
    expect(run.one(REPOSITORY).inputs.format).toBe("DOCKER");
    expect(container(run).image).toMatch(new RegExp(`@${FAKE_DIGEST}$`));
    expect(run.outputs.image).toBe(container(run).image);
  });

  test("every resource sits inside a component", () => {
    const components = run.resources.filter((r) => r.type.startsWith("mosaic-sms-gateway:index:")).map((r) => r.urn);
    for (const r of run.resources.filter((r) => r.type.includes("/") || r.type.startsWith("docker-build") || r.type.startsWith("command"))) {
      expect(components).toContain(r.parent);
    }
  });
});

describe("configured stack", () => {
  test("scaling, concurrency and deletion protection follow config", async () => {
    const run = await runProgram({
      "mosaic-sms-gateway:minInstances": "0",
      "mosaic-sms-gateway:maxInstances": "3",
      "mosaic-sms-gateway:concurrency": "20",
      "mosaic-sms-gateway:deletionProtection": "false",
    });
    const { inputs } = run.one(SERVICE);
    expect(inputs.template.scaling).toEqual({ minInstanceCount: 0, maxInstanceCount: 3 });
    expect(inputs.template.maxInstanceRequestConcurrency).toBe(20);
    expect(inputs.deletionProtection).toBe(false);
    expect(container(run).envs).toContainEqual({ name: "CONCURRENCY", value: "20" });
  });

  test("runtime=node builds the Node image", async () => {
    const run = await runProgram({ "mosaic-sms-gateway:runtime": "node" });
    expect(run.one(IMAGE).inputs.dockerfile.location).toMatch(/gateway\/Dockerfile$/);
    expect(run.outputs.image).toContain("/sms-gateway-node@sha256:");
  });

  test("a prebuilt image means no build and no registry", async () => {
    const prebuilt = `us-docker.pkg.dev/other/gateway@${FAKE_DIGEST}`;
    const run = await runProgram({ "mosaic-sms-gateway:image": prebuilt });
    expect(run.byType(IMAGE)).toEqual([]);
    expect(run.byType(REPOSITORY)).toEqual([]);
    expect(container(run).image).toBe(prebuilt);
  });

  test("publicAccess=all-users binds allUsers as invoker instead of disabling the IAM check", async () => {
    const run = await runProgram({ "mosaic-sms-gateway:publicAccess": "all-users" });
    expect(run.one(SERVICE).inputs.invokerIamDisabled).toBe(false);
    const binding = run.one("gcp:cloudrunv2/serviceIamMember:ServiceIamMember");
    expect(binding.inputs).toMatchObject({ role: "roles/run.invoker", member: "allUsers" });
  });

  test("a messaging service replaces the from number", async () => {
    const run = await runProgram({
      "mosaic-sms-gateway:twilioFromNumber": undefined,
      "mosaic-sms-gateway:twilioMessagingServiceSid": `MG${"1".repeat(32)}`,
    });
    const names = container(run).envs.map((e: any) => e.name);
    expect(names).toContain("TWILIO_MESSAGING_SERVICE_SID");
    expect(names).not.toContain("TWILIO_FROM_NUMBER");
  });
});

describe("invalid config fails with the keys named", () => {
  test.each([
    [
      "both sender settings",
      { "mosaic-sms-gateway:twilioMessagingServiceSid": `MG${"1".repeat(32)}` },
      "Only one of mosaic-sms-gateway:twilioFromNumber and mosaic-sms-gateway:twilioMessagingServiceSid can be set",
    ],
    [
      "neither sender setting",
      { "mosaic-sms-gateway:twilioFromNumber": undefined },
      "One of mosaic-sms-gateway:twilioFromNumber or mosaic-sms-gateway:twilioMessagingServiceSid is required",
    ],
    ["missing Twilio token", { "mosaic-sms-gateway:twilioAuthToken": undefined }, "mosaic-sms-gateway:twilioAuthToken is required"],
    ["missing project", { "gcp:project": undefined }, "gcp:project is required"],
    ["unknown runtime", { "mosaic-sms-gateway:runtime": "bun" }, "mosaic-sms-gateway:runtime must be one of node, deno"],
  ])("%s", async (_, overrides, message) => {
    await expect(runProgram(overrides)).rejects.toThrow(message);
  });
});
