// Policy over the whole program, loaded with config under Pulumi mocks: what a reviewer would check by hand.

import path from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import { REPO_ROOT } from "../../scripts/processes.ts";
import { readSourceRevision, revisionTag } from "../sourceRevision.js";
import { FAKE_API_KEY, FAKE_DIGEST, mockVersionNumber } from "./mocks.js";
import { BASE_CONFIG, isSecret, runProgram, unwrap, type ProgramRun } from "./program.js";

const SERVICE = "gcp:cloudrunv2/service:Service";
const ACCESSOR = "gcp:secretmanager/secretIamMember:SecretIamMember";
const VERSION = "gcp:secretmanager/secretVersion:SecretVersion";
const SECRET = "gcp:secretmanager/secret:Secret";
const IMAGE = "docker-build:index:Image";
const REPOSITORY = "gcp:artifactregistry/repository:Repository";
const SLEEP = "time:index/sleep:Sleep";
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
      const owning = run.byType(SECRET).find((s) => s.inputs.secretId === secret);
      expect(owning, `secret ${secret} is created by the program`).toBeDefined();
      const pinned = versions.find((v) => String(v.inputs.secret).endsWith(`/secrets/${secret}`));
      // The number the SecretVersion got (the mock's), not "latest".
      expect(version).toBe(mockVersionNumber(unwrap(pinned!.inputs.secretData).value));
    }
  });

  test("the gateway's service account reads exactly the accepted keys and the Twilio token, one grant per secret", () => {
    const grants = run.byType(ACCESSOR);
    const account = run.one("gcp:serviceaccount/account:Account");
    const email = `${account.inputs.accountId}@test-project.iam.gserviceaccount.com`;
    const secretIdOf = (purpose: string) => `projects/p/secrets/sms-gateway-test-${purpose}`;
    expect(grants.map((g) => g.inputs.secretId).sort()).toEqual([secretIdOf("accepted-api-keys"), secretIdOf("twilio-auth-token")]);
    for (const g of grants) {
      expect(g.inputs.role).toBe("roles/secretmanager.secretAccessor");
      expect(g.inputs.member).toBe(`serviceAccount:${email}`);
    }
    expect(run.one(SERVICE).inputs.template.serviceAccount).toBe(email);
    // The key Mosaic holds is kept for operators; the gateway reads it through the accepted-keys list only.
    expect(grants.map((g) => g.inputs.secretId)).not.toContain(secretIdOf("api-key"));
    // Nothing project-wide.
    expect(run.resources.filter((r) => /projectIam/i.test(r.type))).toEqual([]);
  });

  test("the service waits for its secrets' versions and for each grant's propagation wait", () => {
    const deps = run.one(SERVICE).dependencies;
    const sleeps = run.byType(SLEEP);
    expect(sleeps).toHaveLength(2);
    for (const sleep of sleeps) {
      expect(deps).toContain(sleep.urn);
      expect(sleep.inputs.createDuration).toBe("120s");
      const grant = run.byType(ACCESSOR).find((g) => sleep.dependencies.includes(g.urn));
      expect(grant, `${sleep.name} waits on a grant`).toBeDefined();
      // A new grant (a new reader, a replaced secret) is waited for again.
      expect(Object.values(sleep.inputs.triggers)).toContain(grant!.inputs.secretId + "/roles/secretmanager.secretAccessor/" + grant!.inputs.member);
    }
    const read = run.byType(VERSION).filter((v) => !/\/secrets\/sms-gateway-test-api-key$/.test(String(v.inputs.secret)));
    expect(read).toHaveLength(2);
    for (const version of read) expect(deps).toContain(version.urn);
  });

  test("the outputs name what an operator needs, and hold no secret value", () => {
    expect(run.outputs.url).toBe("https://sms-gateway-test-abc123-uc.a.run.app/send-sms");
    expect(run.outputs.service).toBe("sms-gateway-test");
    expect(run.outputs.apiKeySecret).toBe("projects/123456789012/secrets/sms-gateway-test-api-key");
    for (const [output, purpose] of [
      ["apiKeySecretVersion", "api-key"],
      ["acceptedApiKeysSecretVersion", "accepted-api-keys"],
    ] as const) {
      expect(run.outputs[output]).toMatch(new RegExp(`^projects/123456789012/secrets/sms-gateway-test-${purpose}/versions/\\d+$`));
    }
    expect(Object.keys(run.outputs.providerSecretVersions)).toEqual(["twilio"]);
    expect(run.outputs.providerSecretVersions.twilio).toMatch(/^projects\/123456789012\/secrets\/sms-gateway-test-twilio-auth-token\/versions\/\d+$/);
    expect(run.outputs.serviceAccount).toMatch(/@test-project\.iam\.gserviceaccount\.com$/);
    expect(run.outputs.apiKeyGeneration).toBe(1);
    expect(run.outputs).not.toHaveProperty("apiKey");
    const everything = JSON.stringify(run.outputs);
    for (const secret of SECRET_VALUES) expect(everything).not.toContain(secret);
  });

  test("the API key is generated long and header-safe", () => {
    const password = run.one("random:index/randomPassword:RandomPassword").inputs;
    expect(password.length).toBeGreaterThanOrEqual(40);
    expect(password.overrideSpecial).toMatch(/^[-_]*$/);
  });

  test("startup and liveness probes hit /health, which Cloud Run does not reserve (unlike /healthz)", () => {
    const c = container(run);
    expect(c.startupProbe.httpGet.path).toBe("/health");
    expect(c.livenessProbe.httpGet.path).toBe("/health");
    expect(c.startupProbe.httpGet.port).toBe(c.ports.containerPort);
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
      "logging.googleapis.com",
      "monitoring.googleapis.com",
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

  test("the image is tagged with the commit of its build inputs and latest, and builds from the registry's cache", () => {
    const image = run.one(IMAGE).inputs;
    const revision = readSourceRevision(REPO_ROOT)!;
    const repo = "us-central1-docker.pkg.dev/test-project/sms-gateway-test/sms-gateway-deno";
    expect(image.tags).toEqual([`${repo}:${revisionTag(revision)}`, `${repo}:latest`]);
    expect(image.cacheFrom).toEqual([{ registry: { ref: `${repo}-buildcache:latest` } }]);
    expect(image.cacheTo).toEqual([
      { registry: { ref: `${repo}-buildcache:latest`, mode: "max", imageManifest: true, ociMediaTypes: true, ignoreError: true } },
    ]);
    // Relative to the program's working directory: under vitest the repository root, under the CLI infra/.
    expect(path.isAbsolute(image.context.location)).toBe(false);
    expect(path.resolve(image.context.location)).toBe(REPO_ROOT);
  });

  test("the registry keeps the 10 newest versions of each image and deletes old and untagged ones", () => {
    const repository = run.one(REPOSITORY).inputs;
    expect(repository.repositoryId).toBe("sms-gateway-test");
    expect(repository.cleanupPolicyDryRun).toBe(false);
    expect(repository.cleanupPolicies).toEqual([
      { id: "keep-10-newest", action: "KEEP", mostRecentVersions: { keepCount: 10 } },
      { id: "delete-untagged-after-7-days", action: "DELETE", condition: { tagState: "UNTAGGED", olderThan: "7d" } },
      { id: "delete-after-30-days", action: "DELETE", condition: { tagState: "ANY", olderThan: "30d" } },
    ]);
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
