import { describe, expect, it } from "vitest";
import { ConfigError, DRAIN_TIMEOUT_MS, parseConfig, secretSafeUrlProblem } from "../src/config.ts";
import { parseProtectionSettings } from "../src/protection/settings.ts";
import { problemsOf } from "./support.ts";

const SID = `AC${"0".repeat(32)}`;
const base = {
  GATEWAY_API_KEY: "k".repeat(40),
  TWILIO_ACCOUNT_SID: SID,
  TWILIO_AUTH_TOKEN: "secret-token-value",
  TWILIO_FROM_NUMBER: "+15005550006",
};

describe("parseConfig", () => {
  it("applies the documented defaults", () => {
    const config = parseConfig(base);
    expect(config).toMatchObject({
      port: 8080,
      host: "0.0.0.0",
      path: "/send-sms",
      sendTimeoutMs: 2500,
      concurrency: 80,
      provider: "twilio",
      projectId: undefined,
      apiKeys: ["k".repeat(40)],
    });
    expect(config.twilio).toEqual({
      accountSid: SID,
      auth: { kind: "authToken", authToken: "secret-token-value" },
      sender: { kind: "from", from: "+15005550006" },
      useSenderId: false,
      apiBaseUrl: "https://api.twilio.com",
    });
  });

  it("accepts several keys during a rotation, trimming blanks", () => {
    const config = parseConfig({ ...base, GATEWAY_API_KEY: ` ${"a".repeat(20)} , ${"b".repeat(20)},` });
    expect(config.apiKeys).toEqual(["a".repeat(20), "b".repeat(20)]);
  });

  it("reads every setting", () => {
    const config = parseConfig({
      ...base,
      TWILIO_FROM_NUMBER: undefined,
      TWILIO_AUTH_TOKEN: undefined,
      TWILIO_API_KEY_SID: `SK${"1".repeat(32)}`,
      TWILIO_API_KEY_SECRET: "key-secret",
      TWILIO_MESSAGING_SERVICE_SID: `MG${"2".repeat(32)}`,
      TWILIO_USE_SENDER_ID: "true",
      TWILIO_API_BASE_URL: "http://127.0.0.1:4010/",
      PORT: "9000",
      HOST: "127.0.0.1",
      GATEWAY_PATH: "/sms/v1",
      SEND_TIMEOUT_MS: "2000",
      CONCURRENCY: "40",
      GOOGLE_CLOUD_PROJECT: "acme-prod",
    });
    expect(config).toMatchObject({ port: 9000, host: "127.0.0.1", path: "/sms/v1", sendTimeoutMs: 2000, concurrency: 40, projectId: "acme-prod" });
    expect(config.twilio).toMatchObject({
      auth: { kind: "apiKey", keySid: `SK${"1".repeat(32)}`, keySecret: "key-secret" },
      sender: { kind: "messagingService", messagingServiceSid: `MG${"2".repeat(32)}` },
      useSenderId: true,
      apiBaseUrl: "http://127.0.0.1:4010",
    });
  });

  it("needs no Twilio settings for the log provider", () => {
    const config = parseConfig({ GATEWAY_API_KEY: "k".repeat(20), SMS_PROVIDER: "log" });
    expect(config.provider).toBe("log");
    expect(config.twilio).toBeUndefined();
  });

  it.each([
    ["nothing at all", {}, ["GATEWAY_API_KEY is required", "TWILIO_ACCOUNT_SID is required", "TWILIO_AUTH_TOKEN", "one of TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID is required"]],
    ["both senders", { ...base, TWILIO_MESSAGING_SERVICE_SID: `MG${"2".repeat(32)}` }, ["only one of TWILIO_FROM_NUMBER and TWILIO_MESSAGING_SERVICE_SID"]],
    ["token and key pair", { ...base, TWILIO_API_KEY_SID: `SK${"1".repeat(32)}`, TWILIO_API_KEY_SECRET: "x" }, ["not both"]],
    ["half a key pair", { ...base, TWILIO_AUTH_TOKEN: undefined, TWILIO_API_KEY_SID: `SK${"1".repeat(32)}` }, ["TWILIO_API_KEY_SECRET is required"]],
    ["a short API key", { ...base, GATEWAY_API_KEY: "short" }, ["GATEWAY_API_KEY key #1 must be at least 16"]],
    ["an empty key list", { ...base, GATEWAY_API_KEY: " , ," }, ["GATEWAY_API_KEY holds no key"]],
    ["a bad account SID", { ...base, TWILIO_ACCOUNT_SID: "AC123" }, ["TWILIO_ACCOUNT_SID must be AC"]],
    ["a bad service SID", { ...base, TWILIO_FROM_NUMBER: undefined, TWILIO_MESSAGING_SERVICE_SID: "MGxyz" }, ["TWILIO_MESSAGING_SERVICE_SID must be MG"]],
    ["a bad sender number", { ...base, TWILIO_FROM_NUMBER: "555-0100" }, ["TWILIO_FROM_NUMBER must be"]],
    ["a bad port", { ...base, PORT: "80a" }, ["PORT must be a whole number"]],
    ["a port out of range", { ...base, PORT: "70000" }, ["PORT must be a whole number"]],
    ["a tiny timeout", { ...base, SEND_TIMEOUT_MS: "5" }, ["SEND_TIMEOUT_MS must be a whole number"]],
    ["a timeout no attempt fits in", { ...base, SEND_TIMEOUT_MS: "499" }, ["SEND_TIMEOUT_MS must be a whole number from 500 to 8000"]],
    // A 10 s send would be cut off mid-flight by the 8 s SIGTERM drain, after the provider received it (issue 8).
    ["a timeout longer than the drain", { ...base, SEND_TIMEOUT_MS: "10000" }, ["SEND_TIMEOUT_MS must be a whole number from 500 to 8000 (a send accepted just before SIGTERM must be answered inside the 8 s drain)"]],
    ["an unknown provider", { ...base, SMS_PROVIDER: "carrier-pigeon" }, ["SMS_PROVIDER must be twilio, smc, telnyx or log"]],
    ["a bad boolean", { ...base, TWILIO_USE_SENDER_ID: "yes" }, ["TWILIO_USE_SENDER_ID must be true or false"]],
    ["a bad host", { ...base, HOST: "0.0.0.0; rm" }, ["HOST must be an IP address"]],
    ["a bad path", { ...base, GATEWAY_PATH: "send sms" }, ["GATEWAY_PATH must start with /"]],
    // The health path would then answer Mosaic's challenge (issue 8, item 17): all four were accepted before.
    ["the health path", { ...base, GATEWAY_PATH: "/health" }, ["GATEWAY_PATH must not be a health path"]],
    ["the health alias", { ...base, GATEWAY_PATH: "/healthz" }, ["GATEWAY_PATH must not be a health path"]],
    ["the health path in capitals", { ...base, GATEWAY_PATH: "/HEALTH" }, ["GATEWAY_PATH must not be a health path"]],
    ["the health alias with a trailing slash", { ...base, GATEWAY_PATH: "/healthz/" }, ["GATEWAY_PATH must not be a health path"]],
    ["a base URL that is not http(s)", { ...base, TWILIO_API_BASE_URL: "ftp://x" }, ["TWILIO_API_BASE_URL must be an https URL"]],
    // The auth token would travel in clear (issue 8, item 10): both were accepted before.
    ["plain http to a remote host", { ...base, TWILIO_API_BASE_URL: "http://twilio-proxy.example.com" }, ["TWILIO_API_BASE_URL must be an https URL (http is accepted only on loopback)"]],
    ["credentials in the base URL", { ...base, TWILIO_API_BASE_URL: "https://user:pw@proxy.example.com" }, ["TWILIO_API_BASE_URL must not carry credentials"]],
    ["a base URL that is not a URL", { ...base, TWILIO_API_BASE_URL: "api.twilio.com" }, ["TWILIO_API_BASE_URL is not a URL"]],
  ])("names every problem at once: %s", (_label, env, expected) => {
    const problems = problemsOf(env as Record<string, string>);
    for (const text of expected) expect(problems.join("\n")).toContain(text);
  });

  it("accepts SEND_TIMEOUT_MS up to the SIGTERM drain, not beyond", () => {
    expect(parseConfig({ ...base, SEND_TIMEOUT_MS: String(DRAIN_TIMEOUT_MS) }).sendTimeoutMs).toBe(DRAIN_TIMEOUT_MS);
    expect(problemsOf({ ...base, SEND_TIMEOUT_MS: String(DRAIN_TIMEOUT_MS + 1) })).toHaveLength(1);
  });

  it.each([
    ["https://api.twilio.com", undefined],
    ["https://proxy.example.com/twilio/", undefined],
    ["http://127.0.0.1:4010", undefined],
    ["http://127.8.9.10", undefined],
    ["http://localhost:8080", undefined],
    ["http://[::1]:4010", undefined],
    ["http://api.twilio.com", "must be an https URL (http is accepted only on loopback)"],
    ["http://127.0.0.1.example.com", "must be an https URL (http is accepted only on loopback)"],
    ["http://localhost.example.com", "must be an https URL (http is accepted only on loopback)"],
    ["http://10.0.0.1", "must be an https URL (http is accepted only on loopback)"],
    ["ws://127.0.0.1", "must be an https URL (http is accepted only on loopback)"],
    ["https://AC123:token@api.twilio.com", "must not carry credentials"],
    ["https://:token@api.twilio.com", "must not carry credentials"],
    ["http://user@127.0.0.1", "must not carry credentials"],
    ["not a url", "is not a URL"],
  ])("secretSafeUrlProblem(%s) → %s", (url, problem) => {
    expect(secretSafeUrlProblem(url)).toBe(problem);
  });

  it("protection (issue 11): on by default in memory; Redis and its secret read from the same environment", () => {
    // The defaults themselves are protection/settings.test.ts's; here, that parseConfig hands them on.
    expect(parseConfig(base).protection).toEqual(parseProtectionSettings({}, []));
    expect(parseConfig(base).protection.store).toEqual({ kind: "memory" });
    const shared = parseConfig({ ...base, REDIS_URL: "rediss://10.0.0.3:6378", REDIS_PASSWORD: "auth-string", PROTECTION_SECRET: "p".repeat(32) });
    expect(shared.protection.store).toEqual({ kind: "redis", url: "rediss://10.0.0.3:6378", password: "auth-string", ca: undefined });
    expect(shared.protection.secret).toBe("p".repeat(32));
  });

  it("protection problems join the others in one error, never repeating a value", () => {
    const problems = problemsOf({ ...base, PORT: "x", REDIS_URL: "redis://:hunter2-pass@10.0.0.3:6379", RATE_LIMIT_GLOBAL: "many" });
    expect(problems).toContain("PORT must be a whole number from 0 to 65535");
    expect(problems.some((p) => p.startsWith("PROTECTION_SECRET is required with REDIS_URL"))).toBe(true);
    expect(problems.some((p) => p.startsWith("RATE_LIMIT_GLOBAL must be N/<duration>"))).toBe(true);
    expect(problems.join("\n")).not.toContain("hunter2");
  });

  it("never repeats a base URL that carries a secret", () => {
    expect(problemsOf({ ...base, TWILIO_API_BASE_URL: "https://AC1:s3cr3t-in-url@proxy.example.com" }).join("\n")).not.toContain("s3cr3t");
  });

  it("accepts paths that only start like a health path", () => {
    expect(parseConfig({ ...base, GATEWAY_PATH: "/health-sms" }).path).toBe("/health-sms");
    expect(parseConfig({ ...base, GATEWAY_PATH: "/health/sms" }).path).toBe("/health/sms");
  });

  it("reports schema and Twilio problems in the same error", () => {
    const problems = problemsOf({ PORT: "x", GATEWAY_API_KEY: "k".repeat(20) });
    expect(problems).toContain("PORT must be a whole number from 0 to 65535");
    expect(problems.some((p) => p.startsWith("TWILIO_ACCOUNT_SID is required"))).toBe(true);
  });

  it("never repeats a value in its message", () => {
    const secret = "s3cr3t-value-XYZ";
    const err = (() => {
      try {
        parseConfig({ GATEWAY_API_KEY: secret.slice(0, 8), TWILIO_AUTH_TOKEN: secret, TWILIO_ACCOUNT_SID: secret, PORT: secret, TWILIO_FROM_NUMBER: secret });
      } catch (e) {
        return e as Error;
      }
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect(err!.message).not.toContain(secret.slice(0, 8));
  });
});

describe("parseConfig: delivery receipt settings", () => {
  const KEY_32_BYTES = Buffer.alloc(32, 7).toString("base64");

  it("defaults: no public base URL, no Telnyx key, OTPs valid 600 s", () => {
    expect(parseConfig(base)).toMatchObject({ publicBaseUrl: undefined, telnyxPublicKey: undefined, otpValiditySeconds: 600 });
  });

  it.each([
    ["https://sms-gateway-abc123-uc.a.run.app", "https://sms-gateway-abc123-uc.a.run.app"],
    ["https://sms-gateway-abc123-uc.a.run.app/", "https://sms-gateway-abc123-uc.a.run.app"],
    ["https://SMS.Example.com:443", "https://sms.example.com"],
    ["https://sms.example.com:8443", "https://sms.example.com:8443"],
    ["http://127.0.0.1:41234", "http://127.0.0.1:41234"],
  ])("PUBLIC_BASE_URL %s → %s", (raw, origin) => {
    expect(parseConfig({ ...base, PUBLIC_BASE_URL: raw }).publicBaseUrl).toBe(origin);
  });

  it.each([
    ["http://sms.example.com", "PUBLIC_BASE_URL must be an https URL (http is accepted only on loopback)"],
    ["https://user:pw@sms.example.com", "PUBLIC_BASE_URL must not carry credentials"],
    ["sms.example.com", "PUBLIC_BASE_URL is not a URL"],
    ["https://sms.example.com/gateway", "PUBLIC_BASE_URL must be an origin only"],
    ["https://sms.example.com/?x=1", "PUBLIC_BASE_URL must be an origin only"],
    ["https://sms.example.com/#", "PUBLIC_BASE_URL must be an origin only"],
  ])("PUBLIC_BASE_URL %s is refused", (raw, problem) => {
    const problems = problemsOf({ ...base, PUBLIC_BASE_URL: raw });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(problem);
    expect(problems[0]).not.toContain("pw@");
  });

  it.each([["1", 1], ["36000", 36_000], [" 300 ", 300]])("OTP_VALIDITY_S %s → %d", (raw, seconds) => {
    expect(parseConfig({ ...base, OTP_VALIDITY_S: raw }).otpValiditySeconds).toBe(seconds);
  });

  it.each(["0", "36001", "10m", "-5", "1.5"])("OTP_VALIDITY_S %s is refused with Twilio's range", (raw) => {
    expect(problemsOf({ ...base, OTP_VALIDITY_S: raw })).toEqual([
      "OTP_VALIDITY_S must be a whole number from 1 to 36000 (Twilio's ValidityPeriod range)",
    ]);
  });

  it("TELNYX_PUBLIC_KEY: the base64 of 32 bytes, as Telnyx shows it", () => {
    expect(parseConfig({ ...base, TELNYX_PUBLIC_KEY: ` ${KEY_32_BYTES} ` }).telnyxPublicKey).toBe(KEY_32_BYTES);
  });

  it.each([
    ["not base64", "not-a-key!"],
    ["31 bytes", Buffer.alloc(31, 7).toString("base64")],
    ["a PEM key", `-----BEGIN PUBLIC KEY-----${KEY_32_BYTES}`],
  ])("TELNYX_PUBLIC_KEY as %s is refused, without repeating it", (_label, raw) => {
    const problems = problemsOf({ ...base, TELNYX_PUBLIC_KEY: raw });
    expect(problems).toEqual([expect.stringContaining("TELNYX_PUBLIC_KEY must be the base64 Ed25519 public key")]);
    expect(problems[0]).not.toContain(raw);
  });

  it.each(["/receipts/twilio", "/receipts/telnyx/", "/receipts", "/receipts/", "/RECEIPTS/Twilio", "/receipts/other/path"])(
    "GATEWAY_PATH %s is refused: the receipt endpoints live there",
    (path) => {
      expect(problemsOf({ ...base, GATEWAY_PATH: path })).toEqual([
        "GATEWAY_PATH must not be under /receipts/: the delivery receipt endpoints live there",
      ]);
    },
  );

  it.each(["/receiptsx", "/sms/receipts/twilio", "/receipt"])("GATEWAY_PATH %s is accepted", (path) => {
    expect(parseConfig({ ...base, GATEWAY_PATH: path }).path).toBe(path);
  });

  it("names every receipt problem at once, beside the others", () => {
    const problems = problemsOf({ ...base, PUBLIC_BASE_URL: "http://sms.example.com", OTP_VALIDITY_S: "0", TELNYX_PUBLIC_KEY: "x", GATEWAY_PATH: "/receipts/x", PORT: "x" });
    expect(problems.map((p) => p.split(" ")[0])).toEqual(expect.arrayContaining(["PUBLIC_BASE_URL", "OTP_VALIDITY_S", "TELNYX_PUBLIC_KEY", "GATEWAY_PATH", "PORT"]));
    expect(problems).toHaveLength(5);
  });
});
