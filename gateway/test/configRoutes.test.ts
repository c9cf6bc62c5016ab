import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../src/config.ts";
import { pickRoute } from "../src/delivery/routes.ts";
import { parseE164 } from "../src/phone.ts";
import { childEnv, REPO_ROOT } from "../../scripts/processes.ts";
import { problemsOf } from "./support.ts";

/** SMC and Telnyx settings, SMS_ROUTES and FAILOVER_ON_UNKNOWN as config.ts reads them at startup. */

const KEY = { GATEWAY_API_KEY: "k".repeat(40) };
const TWILIO = {
  TWILIO_ACCOUNT_SID: `AC${"0".repeat(32)}`,
  TWILIO_AUTH_TOKEN: "twilio-secret-token-value",
  TWILIO_FROM_NUMBER: "+15005550006",
};
const SMC = {
  SMC_SUBDOMAIN: "mc563885gzs27c5t9-63k636ttgm",
  SMC_CLIENT_ID: "smc-client-id-1",
  SMC_CLIENT_SECRET: "smc-client-secret-never-shown",
  SMC_MESSAGE_ID: "MzA6Nzg6MA",
};
const PROFILE = "400174af-0a13-4e28-b4f5-4d2b5f1b2a3c";
const TELNYX = { TELNYX_API_KEY: "KEYtelnyx-secret-never-shown", TELNYX_FROM_NUMBER: "+14155550111" };
const SECRETS = [TWILIO.TWILIO_AUTH_TOKEN, SMC.SMC_CLIENT_SECRET, TELNYX.TELNYX_API_KEY];

const routes = (table: unknown) => ({ SMS_ROUTES: JSON.stringify(table) });

describe("provider settings", () => {
  it("SMS_PROVIDER=smc: the documented defaults", () => {
    const config = parseConfig({ ...KEY, ...SMC, SMS_PROVIDER: "smc" });
    expect(config.smc).toEqual({
      ...{ subdomain: SMC.SMC_SUBDOMAIN, clientId: SMC.SMC_CLIENT_ID, clientSecret: SMC.SMC_CLIENT_SECRET, messageId: SMC.SMC_MESSAGE_ID },
      packageType: "enhanced",
      accountId: undefined,
      keyword: undefined,
      authBaseUrl: `https://${SMC.SMC_SUBDOMAIN}.auth.marketingcloudapis.com`,
      restBaseUrl: undefined,
    });
    expect(config.twilio).toBeUndefined();
    expect(config.routes.fallback).toEqual([{ provider: "smc", useSenderId: false }]);
  });

  it("SMS_PROVIDER=smc: every setting", () => {
    const config = parseConfig({
      ...KEY,
      ...SMC,
      SMS_PROVIDER: "smc",
      SMC_ACCOUNT_ID: "514000123",
      SMC_KEYWORD: "OTPJOIN",
      SMC_AUTH_BASE_URL: "http://127.0.0.1:4011/",
      SMC_REST_BASE_URL: "https://proxy.example.com/smc",
    });
    expect(config.smc).toMatchObject({ accountId: "514000123", keyword: "OTPJOIN", authBaseUrl: "http://127.0.0.1:4011", restBaseUrl: "https://proxy.example.com/smc" });
  });

  it("SMS_PROVIDER=telnyx: the documented defaults", () => {
    const config = parseConfig({ ...KEY, ...TELNYX, SMS_PROVIDER: "telnyx" });
    expect(config.telnyx).toEqual({
      apiKey: TELNYX.TELNYX_API_KEY,
      fromNumber: "+14155550111",
      messagingProfileId: undefined,
      apiBaseUrl: "https://api.telnyx.com",
    });
  });

  it("without SMS_ROUTES: one route, every country, SMS_PROVIDER, TWILIO_USE_SENDER_ID as before", () => {
    const config = parseConfig({ ...KEY, ...TWILIO, TWILIO_USE_SENDER_ID: "true" });
    expect(config.routes.byCountry.size).toBe(0);
    expect(config.routes.fallback).toEqual([{ provider: "twilio", useSenderId: true }]);
    expect(config.failoverOnUnknown).toBe(false);
  });

  it("SMS_ROUTES: only the providers it names need settings; SMS_PROVIDER is not used", () => {
    const config = parseConfig({
      ...KEY,
      ...SMC,
      ...TELNYX,
      ...routes({ US: [{ provider: "telnyx" }], "*": [{ provider: "smc" }, { provider: "telnyx" }] }),
      FAILOVER_ON_UNKNOWN: "true",
    });
    expect(config.twilio).toBeUndefined();
    expect(config.smc).toBeDefined();
    expect(config.telnyx).toBeDefined();
    expect(config.failoverOnUnknown).toBe(true);
    expect(pickRoute(config.routes, parseE164("+14155552671")!)?.entries).toEqual([{ provider: "telnyx", useSenderId: false }]);
  });

  it("accepts the README's example table (US + EU senders)", () => {
    const readme = readFileSync(path.join(REPO_ROOT, "README.md"), "utf8");
    const section = readme.slice(readme.indexOf("### Providers, routing and failover"));
    const example = /```json\n([\s\S]*?)```/.exec(section)![1]!;
    const config = parseConfig({ ...KEY, ...TWILIO, ...SMC, ...TELNYX, TELNYX_MESSAGING_PROFILE_ID: PROFILE, SMS_ROUTES: example });
    expect([...config.routes.byCountry.keys()]).toEqual(["US", "CA", "DE", "FR"]);
    expect(pickRoute(config.routes, parseE164("+33612345678")!)?.entries[0]).toEqual({ provider: "twilio", from: "Acme", useSenderId: false });
    expect(pickRoute(config.routes, parseE164("+17875550123")!)?.key).toBe("*");
  });

  it("accepts alphanumeric Telnyx senders with a messaging profile", () => {
    const config = parseConfig({
      ...KEY,
      TELNYX_API_KEY: TELNYX.TELNYX_API_KEY,
      TELNYX_FROM_NUMBER: "Acme",
      TELNYX_MESSAGING_PROFILE_ID: PROFILE,
      ...routes({ GB: [{ provider: "telnyx", use_sender_id: true }], DE: [{ provider: "telnyx" }] }),
    });
    expect(config.telnyx?.fromNumber).toBe("Acme");
  });
});

describe("refused at startup, each problem named, never a secret", () => {
  it.each<[string, Record<string, string | undefined>, string[]]>([
    ["invalid JSON", { ...KEY, ...TWILIO, SMS_ROUTES: "{US: twilio}" }, ["SMS_ROUTES is not valid JSON"]],
    ["an unknown provider", { ...KEY, ...TWILIO, ...routes({ US: [{ provider: "vonage" }] }) }, ['SMS_ROUTES.US[0]: unknown provider "vonage" (use twilio, smc or telnyx)']],
    [
      "a provider used in a route without its settings",
      { ...KEY, ...TWILIO, ...routes({ US: [{ provider: "twilio" }, { provider: "telnyx" }] }) },
      ["TELNYX_API_KEY is required (SMS_ROUTES uses telnyx)", "one of TELNYX_FROM_NUMBER or TELNYX_MESSAGING_PROFILE_ID is required (SMS_ROUTES uses telnyx)"],
    ],
    [
      "smc in a route without its settings",
      { ...KEY, ...TWILIO, ...routes({ "*": [{ provider: "smc" }] }) },
      ["SMC_SUBDOMAIN is required (SMS_ROUTES uses smc)", "SMC_CLIENT_ID is required (SMS_ROUTES uses smc)", "SMC_CLIENT_SECRET is required (SMS_ROUTES uses smc)", "SMC_MESSAGE_ID is required (SMS_ROUTES uses smc)"],
    ],
    ["an unknown country code", { ...KEY, ...TWILIO, ...routes({ ZZ: [{ provider: "twilio" }] }) }, ['SMS_ROUTES: "ZZ" is not an ISO 3166-1 alpha-2 country code or "*"']],
    ["an empty list", { ...KEY, ...TWILIO, ...routes({ DE: [] }) }, ["SMS_ROUTES.DE: the list of providers is empty"]],
    [
      "an alphanumeric sender to the US",
      { ...KEY, ...TWILIO, ...routes({ US: [{ provider: "twilio", from: "Acme" }] }) },
      ['SMS_ROUTES.US[0]: an alphanumeric "from" cannot be used on this route: US, CA, PR refuse alphanumeric senders'],
    ],
    ["from on smc", { ...KEY, ...SMC, ...routes({ "*": [{ provider: "smc", from: "12345" }] }) }, ['SMS_ROUTES.*[0]: "from" is not accepted for smc']],
    [
      "an alphanumeric Telnyx sender without a messaging profile",
      { ...KEY, ...TELNYX, ...routes({ GB: [{ provider: "telnyx", from: "Acme" }], DE: [{ provider: "telnyx", use_sender_id: true }] }) },
      ["SMS_ROUTES.GB[0], SMS_ROUTES.DE[0]: an alphanumeric sender on telnyx needs TELNYX_MESSAGING_PROFILE_ID"],
    ],
    [
      "an alphanumeric TELNYX_FROM_NUMBER that a route takes to the US",
      { ...KEY, TELNYX_API_KEY: "KEYx", TELNYX_FROM_NUMBER: "Acme", TELNYX_MESSAGING_PROFILE_ID: PROFILE, ...routes({ "*": [{ provider: "telnyx" }] }) },
      ['SMS_ROUTES.*[0]: TELNYX_FROM_NUMBER is alphanumeric and US, CA, PR refuse alphanumeric senders (give these entries a "from")'],
    ],
    ["an alphanumeric TELNYX_FROM_NUMBER without a profile", { ...KEY, TELNYX_API_KEY: "KEYx", TELNYX_FROM_NUMBER: "Acme", SMS_PROVIDER: "telnyx" }, ["TELNYX_FROM_NUMBER is an alphanumeric sender: Telnyx requires TELNYX_MESSAGING_PROFILE_ID with it"]],
    ["a malformed messaging profile", { ...KEY, ...TELNYX, TELNYX_MESSAGING_PROFILE_ID: "profile-1", SMS_PROVIDER: "telnyx" }, ["TELNYX_MESSAGING_PROFILE_ID must be a messaging profile id (a UUID)"]],
    ["a remote http Telnyx base URL", { ...KEY, ...TELNYX, TELNYX_API_BASE_URL: "http://telnyx.example.com", SMS_PROVIDER: "telnyx" }, ["TELNYX_API_BASE_URL must be an https URL (http is accepted only on loopback)"]],
    ["an unknown package type", { ...KEY, ...SMC, SMC_PACKAGE_TYPE: "classic", SMS_PROVIDER: "smc" }, ["SMC_PACKAGE_TYPE must be enhanced or legacy"]],
    ["an account id with a legacy package", { ...KEY, ...SMC, SMC_PACKAGE_TYPE: "legacy", SMC_ACCOUNT_ID: "514000123", SMS_PROVIDER: "smc" }, ["SMC_ACCOUNT_ID applies to enhanced packages only"]],
    ["a malformed MID", { ...KEY, ...SMC, SMC_ACCOUNT_ID: "MID-1", SMS_PROVIDER: "smc" }, ["SMC_ACCOUNT_ID must be the business unit's MID (digits)"]],
    ["a malformed keyword", { ...KEY, ...SMC, SMC_KEYWORD: "JOIN NOW", SMS_PROVIDER: "smc" }, ["SMC_KEYWORD must be a MobileConnect keyword (letters, digits, _ or -)"]],
    ["a remote http SMC auth URL", { ...KEY, ...SMC, SMC_AUTH_BASE_URL: "http://auth.example.com", SMS_PROVIDER: "smc" }, ["SMC_AUTH_BASE_URL must be an https URL (http is accepted only on loopback)"]],
    ["credentials in the SMC REST URL", { ...KEY, ...SMC, SMC_REST_BASE_URL: "https://u:smc-client-secret-never-shown@x.example.com", SMS_PROVIDER: "smc" }, ["SMC_REST_BASE_URL must not carry credentials"]],
    ["a malformed subdomain", { ...KEY, ...SMC, SMC_SUBDOMAIN: "mc.evil.com/x", SMS_PROVIDER: "smc" }, ["SMC_SUBDOMAIN must be the tenant subdomain"]],
    ["FAILOVER_ON_UNKNOWN not a boolean", { ...KEY, ...TWILIO, FAILOVER_ON_UNKNOWN: "sometimes" }, ["FAILOVER_ON_UNKNOWN must be true or false"]],
  ])("%s", (_label, env, expected) => {
    const problems = problemsOf(env);
    for (const text of expected) expect(problems).toContainEqual(expect.stringContaining(text));
    for (const secret of SECRETS) expect(problems.join("\n")).not.toContain(secret);
  });

  it("names the table's problems and the missing settings in one message", () => {
    const problems = problemsOf({
      ...KEY,
      ...routes({ XX: [{ provider: "twilio" }], US: [{ provider: "telnyx", from: "Acme" }], "*": [{ provider: "smc" }] }),
    });
    const text = problems.join("\n");
    for (const part of ['"XX"', "SMS_ROUTES.US[0]", "TELNYX_API_KEY is required", "SMC_CLIENT_ID is required"]) expect(text).toContain(part);
  });

  it("the gateway exits 1 with that message on stderr, and no secret", () => {
    const run = spawnSync(process.execPath, ["--import", "tsx", path.join(REPO_ROOT, "gateway/src/main.ts")], {
      cwd: REPO_ROOT,
      env: childEnv({ ...KEY, ...TELNYX, PORT: "0", HOST: "127.0.0.1", ...routes({ US: [{ provider: "twilio", from: "Acme" }], "*": [{ provider: "telnyx" }] }) }),
      encoding: "utf8",
      timeout: 20_000,
    });
    expect(run.status).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr).toContain('SMS_ROUTES.US[0]: an alphanumeric "from" cannot be used on this route');
    expect(run.stderr).toContain("TWILIO_ACCOUNT_SID is required (SMS_ROUTES uses twilio)");
    for (const secret of SECRETS) expect(run.stderr).not.toContain(secret);
  });
});
