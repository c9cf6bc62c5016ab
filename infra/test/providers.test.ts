// The program with several providers (issue 10): each provider secret in Secret Manager with its own accessor
// grant and a pinned version, only for the providers the routes use, and the Deno image allowed exactly their hosts.

import { beforeAll, describe, expect, test } from "vitest";
import { mockVersionNumber } from "./mocks.js";
import { runProgram, SECRET_KEYS, unwrap, type ProgramRun } from "./program.js";

const P = "mosaic-sms-gateway";
const SERVICE = "gcp:cloudrunv2/service:Service";
const SECRET = "gcp:secretmanager/secret:Secret";
const VERSION = "gcp:secretmanager/secretVersion:SecretVersion";
const ACCESSOR = "gcp:secretmanager/secretIamMember:SecretIamMember";
const SLEEP = "time:index/sleep:Sleep";
const SMC_SECRET = "smc-client-secret-value-42";
const TELNYX_KEY = "KEY-telnyx-value-43";

/** SMC and Telnyx, no Twilio: the base config's Twilio keys removed. */
const SMC_AND_TELNYX: Record<string, string | undefined> = {
  [`${P}:twilioAccountSid`]: undefined,
  [`${P}:twilioAuthToken`]: undefined,
  [`${P}:twilioFromNumber`]: undefined,
  [`${P}:smsRoutes`]: JSON.stringify({ US: [{ provider: "telnyx" }], "*": [{ provider: "smc" }, { provider: "telnyx" }] }),
  [`${P}:smcSubdomain`]: "mc563885gzs27c5t9",
  [`${P}:smcClientId`]: "client-id-1",
  [`${P}:smcClientSecret`]: SMC_SECRET,
  [`${P}:smcMessageId`]: "MzA6Nzg6MA",
  [`${P}:telnyxApiKey`]: TELNYX_KEY,
  [`${P}:telnyxFromNumber`]: "+15551230000",
};

const container = (run: ProgramRun) => run.one(SERVICE).inputs.template.containers[0];
const secretIds = (run: ProgramRun) => run.byType(SECRET).map((s) => s.inputs.secretId).sort();

describe("routes through SMC and Telnyx", () => {
  let run: ProgramRun;
  beforeAll(async () => {
    run = await runProgram(SMC_AND_TELNYX);
  });

  test("one secret per provider in use, none for Twilio", () => {
    expect(secretIds(run)).toEqual([
      "sms-gateway-test-accepted-api-keys",
      "sms-gateway-test-api-key",
      "sms-gateway-test-smc-client-secret",
      "sms-gateway-test-telnyx-api-key",
    ]);
  });

  test("each provider secret: its own accessor grant, a propagation wait the service waits for, a pinned version in the env", () => {
    const service = run.one(SERVICE);
    const envs = container(run).envs;
    for (const [purpose, env, value] of [
      ["smc-client-secret", "SMC_CLIENT_SECRET", SMC_SECRET],
      ["telnyx-api-key", "TELNYX_API_KEY", TELNYX_KEY],
    ] as const) {
      const id = `sms-gateway-test-${purpose}`;
      const grant = run.byType(ACCESSOR).filter((g) => String(g.inputs.secretId).endsWith(`/secrets/${id}`));
      expect(grant, purpose).toHaveLength(1);
      expect(grant[0]!.inputs.role).toBe("roles/secretmanager.secretAccessor");
      const sleep = run.byType(SLEEP).find((s) => s.dependencies.includes(grant[0]!.urn));
      expect(service.dependencies).toContain(sleep!.urn);
      const version = run.byType(VERSION).find((v) => String(v.inputs.secret).endsWith(`/secrets/${id}`))!;
      const data = unwrap(version.inputs.secretData);
      expect(data).toEqual({ secret: true, value });
      expect(envs).toContainEqual({ name: env, valueSource: { secretKeyRef: { secret: id, version: mockVersionNumber(value) } } });
    }
    for (const env of envs) if ("value" in env) expect([SMC_SECRET, TELNYX_KEY]).not.toContain(env.value);
  });

  test("the routes and each provider's plain settings reach the gateway; no Twilio variable", () => {
    const plain = Object.fromEntries(container(run).envs.filter((e: any) => "value" in e).map((e: any) => [e.name, e.value]));
    expect(plain).toMatchObject({
      SMS_ROUTES: SMC_AND_TELNYX[`${P}:smsRoutes`],
      SMC_SUBDOMAIN: "mc563885gzs27c5t9",
      SMC_CLIENT_ID: "client-id-1",
      SMC_MESSAGE_ID: "MzA6Nzg6MA",
      TELNYX_FROM_NUMBER: "+15551230000",
    });
    expect(Object.keys(plain).filter((n) => n.startsWith("TWILIO_"))).toEqual([]);
  });

  test("the Deno image may reach SMC and Telnyx, not Twilio", () => {
    const allowNet = container(run).args.find((a: string) => a.startsWith("--allow-net="));
    expect(allowNet).toBe(
      "--allow-net=0.0.0.0:8080,mc563885gzs27c5t9.auth.marketingcloudapis.com:443,*.rest.marketingcloudapis.com:443,api.telnyx.com:443",
    );
  });

  test("the outputs name each provider secret's version", () => {
    expect(Object.keys(run.outputs.providerSecretVersions).sort()).toEqual(["smc", "telnyx"]);
    expect(JSON.stringify(run.outputs)).not.toContain(TELNYX_KEY);
  });
});

test("the default Twilio stack keeps its secrets and gets the Dockerfile's own permissions as args", async () => {
  const run = await runProgram();
  expect(secretIds(run)).toEqual(["sms-gateway-test-accepted-api-keys", "sms-gateway-test-api-key", "sms-gateway-test-twilio-auth-token"]);
  expect(container(run).args).toEqual(["deno", "run", "--no-prompt", "--allow-net=0.0.0.0:8080,*.twilio.com:443", "--allow-env", "gateway.mjs"]);
});

test("the Node image gets no args: its CMD runs the bundle", async () => {
  const run = await runProgram({ [`${P}:runtime`]: "node" });
  expect(container(run).args).toBeUndefined();
});

describe("refused before anything is created", () => {
  test("a provider secret stored in plain text", async () => {
    await expect(runProgram(SMC_AND_TELNYX, "test", SECRET_KEYS.filter((k) => k !== `${P}:telnyxApiKey`))).rejects.toThrow(
      `${P}:telnyxApiKey is stored in plain text in the stack's config file`,
    );
  });

  test("a route naming a provider without its settings", async () => {
    await expect(runProgram({ ...SMC_AND_TELNYX, [`${P}:smcMessageId`]: undefined })).rejects.toThrow(
      `${P}:smcMessageId is required (${P}:smsRoutes uses smc)`,
    );
  });
});
