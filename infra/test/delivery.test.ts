// Delivery config (issue 10): routes and provider settings, checked at preview by the gateway's own startup rules
// and reported by Pulumi key; only the providers the routes name need (and get) settings.

import { describe, expect, test } from "vitest";
import { parseWith, problemsOf } from "./configParse.js";
import { usedProviders } from "../delivery.js";
import { ENV_CONFIG_KEYS, gatewayProblems, translateProblem } from "../gatewayCheck.js";
import { gatewayEnv } from "../gatewayEnv.js";

const P = "mosaic-sms-gateway";
const BASE: Record<string, string> = { mosaicClientId: "id", mosaicClientSecret: "secret" };
const TWILIO: Record<string, string> = {
  twilioAccountSid: `AC${"a".repeat(32)}`,
  twilioAuthToken: "token",
  twilioFromNumber: "+15551234567",
};
const SMC: Record<string, string> = {
  smcSubdomain: "mc563885gzs27c5t9-63k636ttgm",
  smcClientId: "client-id-1",
  smcClientSecret: "client-secret-1",
  smcMessageId: "MzA6Nzg6MA",
};
const TELNYX: Record<string, string> = { telnyxApiKey: "KEY0123456789", telnyxFromNumber: "+15551230000" };
const routes = (table: unknown) => ({ smsRoutes: JSON.stringify(table) });

const parse = (values: Record<string, string | undefined>) => parseWith(values, BASE);
const problems = (values: Record<string, string | undefined>) => problemsOf(values, BASE);

describe("which providers need settings", () => {
  test("routes through SMC and Telnyx need no Twilio setting, and read none", () => {
    const config = parse({ ...routes({ US: [{ provider: "telnyx" }], "*": [{ provider: "smc" }] }), ...SMC, ...TELNYX });
    expect(config.delivery.twilio).toBeUndefined();
    expect(config.delivery.smc).toEqual({
      subdomain: SMC.smcSubdomain,
      clientId: "client-id-1",
      clientSecret: "client-secret-1",
      messageId: "MzA6Nzg6MA",
      packageType: undefined,
      accountId: undefined,
      keyword: undefined,
    });
    expect(config.delivery.telnyx).toEqual({ apiKey: TELNYX.telnyxApiKey, fromNumber: "+15551230000", messagingProfileId: undefined });
  });

  test("settings of a provider the routes do not name are not read", () => {
    const config = parse({ ...TWILIO, ...SMC, smsRoutes: undefined });
    expect(config.delivery.smc).toBeUndefined();
    expect(config.delivery.twilio).toBeDefined();
  });

  test("smsProvider alone picks the one provider", () => {
    expect(parse({ smsProvider: "telnyx", ...TELNYX }).delivery).toMatchObject({ provider: "telnyx", twilio: undefined, smc: undefined });
  });

  test.each([
    ['{"US":[{"provider":"smc"}],"*":[{"provider":"telnyx"}]}', ["smc", "telnyx"]],
    // A table with problems still names its providers, so their settings are checked in the same run.
    ['{"us":[{"provider":"smc"}],"*":[{"provider":"sinch"}]}', ["smc"]],
    ["not json", []],
  ])("usedProviders(%s)", (table, expected) => {
    expect([...usedProviders(table, "twilio")].sort()).toEqual(expected);
  });
});

describe("problems, named by key, all at once", () => {
  test.each([
    [{ smsRoutes: "{US:" }, [`${P}:smsRoutes is not valid JSON`]],
    [routes({}), [`${P}:smsRoutes has no routes (give at least "*")`]],
    [routes({ US: [{ provider: "sinch" }] }), [`${P}:smsRoutes.US[0]: unknown provider "sinch" (use twilio, smc or telnyx)`]],
    [routes({ UK: [{ provider: "twilio" }] }), [`${P}:smsRoutes: "UK" is not an ISO 3166-1 alpha-2 code (did you mean "GB"?)`]],
    [routes({ US: [] }), [`${P}:smsRoutes.US: the list of providers is empty`]],
    [
      routes({ US: [{ provider: "twilio", from: "Acme" }] }),
      [`${P}:smsRoutes.US[0]: an alphanumeric "from" cannot be used on this route: US, CA, PR refuse alphanumeric senders`],
    ],
    [routes({ DE: [{ provider: "smc", from: "+4915112345678" }] }), [`${P}:smsRoutes.DE[0]: "from" is not accepted for smc`]],
  ])("%o", (values, expected) => {
    const found = problems({ ...TWILIO, ...SMC, ...TELNYX, ...values });
    expect(found).toHaveLength(expected.length);
    expected.forEach((message, i) => expect(found[i]).toContain(message));
  });

  test("a provider the routes name without its settings: each missing setting, with the reason", () => {
    const found = problems(routes({ "*": [{ provider: "smc" }, { provider: "telnyx" }] }));
    expect(found).toEqual(
      expect.arrayContaining([
        `${P}:smcClientSecret is required while ${P}:smsRoutes uses smc (set it with --secret)`,
        `${P}:telnyxApiKey is required while ${P}:smsRoutes uses telnyx (set it with --secret)`,
        `${P}:smcSubdomain is required (${P}:smsRoutes uses smc)`,
        `${P}:smcClientId is required (${P}:smsRoutes uses smc)`,
        `${P}:smcMessageId is required (${P}:smsRoutes uses smc)`,
        `One of ${P}:telnyxFromNumber or ${P}:telnyxMessagingProfileId is required (${P}:smsRoutes uses telnyx)`,
      ]),
    );
    // The secrets are reported by infra, the rest by the gateway's rules: never the same setting twice.
    expect(found).toHaveLength(6);
  });

  test("malformed provider settings, by key", () => {
    const found = problems({
      ...routes({ "*": [{ provider: "smc" }, { provider: "telnyx", use_sender_id: true }] }),
      ...SMC,
      ...TELNYX,
      smcSubdomain: "bad domain!",
      smcPackageType: "premium",
      smcAccountId: "MID-1",
      telnyxMessagingProfileId: "not-a-uuid",
    });
    for (const message of [
      `${P}:smcSubdomain must be the tenant subdomain`,
      `${P}:smcPackageType must be enhanced or legacy`,
      `${P}:smcAccountId must be the business unit's MID (digits)`,
      `${P}:telnyxMessagingProfileId must be a messaging profile id (a UUID)`,
    ]) {
      expect(found.join("\n")).toContain(message);
    }
  });

  test("a problem of the table and one of a setting are reported together, with the other config problems", () => {
    const found = problems({ ...routes({ us: [{ provider: "telnyx" }] }), runtime: "bun" });
    expect(found.join("\n")).toContain(`${P}:runtime must be one of node, deno`);
    expect(found.join("\n")).toContain(`${P}:smsRoutes: "us" must be written in capitals ("US")`);
    expect(found.join("\n")).toContain(`${P}:telnyxApiKey is required`);
  });

  test("no secret value appears in any problem", () => {
    const secret = "sk-live-DO-NOT-PRINT-77";
    const found = problems({ smsProvider: "telnyx", telnyxApiKey: secret, telnyxFromNumber: "Acme Corp Inc" });
    expect(found.length).toBeGreaterThan(0);
    expect(found.join("\n")).not.toContain(secret);
  });
});

describe("the environment the gateway gets", () => {
  const ref = (secret: string) => ({ secret, version: "3" });

  test("each provider's variables, secrets as pinned references only", () => {
    const config = parse({ ...routes({ US: [{ provider: "twilio" }, { provider: "telnyx" }], "*": [{ provider: "smc" }] }), ...TWILIO, ...SMC, ...TELNYX, failoverOnUnknown: "true", smcKeyword: "OTP" });
    const env = gatewayEnv({
      config,
      secrets: { apiKey: ref("keys"), twilioAuthToken: ref("tw"), smcClientSecret: ref("smc"), telnyxApiKey: ref("tx") },
      publicBaseUrl: "https://sms.example.com",
    });
    expect(env.filter((e) => "valueSource" in e)).toEqual([
      { name: "GATEWAY_API_KEY", valueSource: { secretKeyRef: ref("keys") } },
      { name: "TWILIO_AUTH_TOKEN", valueSource: { secretKeyRef: ref("tw") } },
      { name: "SMC_CLIENT_SECRET", valueSource: { secretKeyRef: ref("smc") } },
      { name: "TELNYX_API_KEY", valueSource: { secretKeyRef: ref("tx") } },
    ]);
    const plain = Object.fromEntries(env.filter((e) => "value" in e).map((e) => [e.name, (e as { value: string }).value]));
    expect(plain).toMatchObject({
      SMS_ROUTES: config.delivery.routes,
      FAILOVER_ON_UNKNOWN: "true",
      SMC_SUBDOMAIN: SMC.smcSubdomain,
      SMC_CLIENT_ID: "client-id-1",
      SMC_MESSAGE_ID: "MzA6Nzg6MA",
      SMC_KEYWORD: "OTP",
      TELNYX_FROM_NUMBER: "+15551230000",
    });
    // Left to the gateway's defaults when not configured.
    expect(Object.keys(plain)).not.toContain("SMC_PACKAGE_TYPE");
    expect(Object.keys(plain)).not.toContain("TELNYX_MESSAGING_PROFILE_ID");
    expect(gatewayProblems(env)).toEqual([]);
  });

  test("every variable built from a config key is named in the translation table", () => {
    const config = parse({ ...routes({ "*": [{ provider: "twilio" }, { provider: "smc" }, { provider: "telnyx" }] }), ...TWILIO, ...SMC, ...TELNYX, smcPackageType: "enhanced", smcAccountId: "123", telnyxMessagingProfileId: "4001a0ef-2f65-4b19-9b3c-3f4e2b2b5d7a", failoverOnUnknown: "true" });
    const env = gatewayEnv({ config, secrets: { apiKey: ref("k"), twilioAuthToken: ref("t"), smcClientSecret: ref("s"), telnyxApiKey: ref("x") }, publicBaseUrl: "https://sms.example.com" });
    const derived = new Set(["GATEWAY_API_KEY", "GOOGLE_CLOUD_PROJECT", "PUBLIC_BASE_URL"]);
    for (const { name } of env) if (!derived.has(name)) expect(ENV_CONFIG_KEYS, name).toHaveProperty(name);
  });
});

describe("translateProblem", () => {
  test.each([
    ["TELNYX_API_KEY is required", `${P}:telnyxApiKey is required`],
    ["one of TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID is required", `One of ${P}:twilioFromNumber or ${P}:twilioMessagingServiceSid is required`],
    ["SMS_ROUTES.US[0]: x (SMS_ROUTES uses smc)", `${P}:smsRoutes.US[0]: x (${P}:smsRoutes uses smc)`],
    // A variable infra derives itself is infra's bug, and says so.
    ["GATEWAY_API_KEY holds no key", "The gateway would refuse the environment this program builds: GATEWAY_API_KEY holds no key"],
  ])("%s", (problem, expected) => {
    expect(translateProblem(problem)).toBe(expected);
  });
});
