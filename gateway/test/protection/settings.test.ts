import { describe, expect, it } from "vitest";
import { createProtectionKeys, numberPrefix } from "../../src/protection/keys.ts";
import { parseLimit, parseProtectionSettings, type ProtectionEnv } from "../../src/protection/settings.ts";

const SECRET = "s".repeat(32);
const CA = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

function parse(env: ProtectionEnv) {
  const problems: string[] = [];
  const settings = parseProtectionSettings(env, problems);
  return { settings, problems };
}

describe("parseLimit", () => {
  it.each([
    ["5/10m", { points: 5, durationS: 600 }],
    ["30/10m", { points: 30, durationS: 600 }],
    ["1/1s", { points: 1, durationS: 1 }],
    ["100/1h", { points: 100, durationS: 3600 }],
    [" 7 / 90s ", { points: 7, durationS: 90 }],
    ["1000000/24h", { points: 1_000_000, durationS: 86_400 }],
  ])("%j → %j", (raw, limit) => {
    const problems: string[] = [];
    expect(parseLimit("RATE_LIMIT_GLOBAL", raw, undefined, problems)).toEqual(limit);
    expect(problems).toEqual([]);
  });

  it.each(["off", "OFF", " off "])("%j turns the limit off", (raw) => {
    expect(parseLimit("RATE_LIMIT_PER_NUMBER", raw, { points: 5, durationS: 600 }, [])).toBeUndefined();
  });

  it.each([undefined, "", "  "])("%j keeps the default", (raw) => {
    expect(parseLimit("RATE_LIMIT_PER_NUMBER", raw, { points: 5, durationS: 600 }, [])).toEqual({ points: 5, durationS: 600 });
  });

  it("refuses malformed values with one message that names the variable and never carries the value", () => {
    const malformed = ["5", "5/", "/10m", "5/10", "5/10d", "0/10m", "5/0s", "-1/10m", "1.5/10m", "5/25h", "1000001/1m", "5 per 10m", "five/10m", "5/10m,6/1h"];
    const messages = malformed.map((raw) => {
      const problems: string[] = [];
      expect(parseLimit("RATE_LIMIT_PER_PREFIX", raw, undefined, problems)).toBeUndefined();
      expect(problems).toHaveLength(1);
      return problems[0];
    });
    expect(new Set(messages)).toEqual(
      new Set(["RATE_LIMIT_PER_PREFIX must be N/<duration> with s, m or h (e.g. 5/10m), N from 1 to 1000000 and a duration from 1s to 24h, or off"]),
    );
  });
});

describe("parseProtectionSettings", () => {
  it("applies the documented defaults: 60 s window, send on unknown, 5/10m per number, 30/10m per prefix, memory", () => {
    expect(parse({})).toEqual({
      problems: [],
      settings: {
        dedupe: { windowMs: 60_000, onUnknownRepeat: "send" },
        limits: {
          perNumber: { points: 5, durationS: 600 },
          perPrefix: { points: 30, durationS: 600 },
          perCountry: undefined,
          global: undefined,
          allowedCountries: undefined,
        },
        store: { kind: "memory" },
        secret: undefined,
      },
    });
  });

  it("reads every setting", () => {
    const { settings, problems } = parse({
      DEDUPE_WINDOW_S: "0",
      ON_UNKNOWN_REPEAT: "suppress",
      RATE_LIMIT_PER_NUMBER: "off",
      RATE_LIMIT_PER_PREFIX: "10/1h",
      RATE_LIMIT_PER_COUNTRY: "1000/1h",
      RATE_LIMIT_GLOBAL: "5000/1h",
      ALLOWED_COUNTRIES: " us, gb ,DE,",
      REDIS_URL: "rediss://10.0.0.3:6378",
      REDIS_PASSWORD: "auth-string",
      REDIS_CA_CERT: CA + CA,
      PROTECTION_SECRET: SECRET,
    });
    expect(problems).toEqual([]);
    expect(settings.dedupe).toEqual({ windowMs: 0, onUnknownRepeat: "suppress" });
    expect(settings.limits).toEqual({
      perNumber: undefined,
      perPrefix: { points: 10, durationS: 3600 },
      perCountry: { points: 1000, durationS: 3600 },
      global: { points: 5000, durationS: 3600 },
      allowedCountries: new Set(["US", "GB", "DE"]),
    });
    expect(settings.store).toEqual({ kind: "redis", url: "rediss://10.0.0.3:6378", password: "auth-string", ca: (CA + CA).trim() });
    expect(settings.secret).toBe(SECRET);
  });

  it("accepts the password inside REDIS_URL", () => {
    const { settings, problems } = parse({ REDIS_URL: "redis://:p%40ss@127.0.0.1:6379/2", PROTECTION_SECRET: SECRET });
    expect(problems).toEqual([]);
    expect(settings.store).toEqual({ kind: "redis", url: "redis://:p%40ss@127.0.0.1:6379/2", password: undefined, ca: undefined });
  });

  it("names every problem at once and repeats no value", () => {
    const env: ProtectionEnv = {
      DEDUPE_WINDOW_S: "sixty",
      ON_UNKNOWN_REPEAT: "maybe",
      RATE_LIMIT_PER_NUMBER: "5/10x",
      RATE_LIMIT_GLOBAL: "lots",
      ALLOWED_COUNTRIES: "US,XX,usa",
      REDIS_URL: "redis://:hunter2-password@127.0.0.1:6379",
      REDIS_PASSWORD: "hunter3-password",
      REDIS_CA_CERT: "not a certificate",
      PROTECTION_SECRET: "short-secret-value",
    };
    const { problems } = parse(env);
    expect(problems).toEqual([
      "set the Redis password in REDIS_URL or in REDIS_PASSWORD, not both",
      "REDIS_CA_CERT needs a rediss:// REDIS_URL (TLS)",
      "REDIS_CA_CERT must be PEM text (-----BEGIN CERTIFICATE----- …)",
      "PROTECTION_SECRET must be at least 32 characters",
      "DEDUPE_WINDOW_S must be a whole number of seconds from 0 (off) to 86400",
      "ON_UNKNOWN_REPEAT must be send or suppress",
      expect.stringMatching(/^RATE_LIMIT_PER_NUMBER must be/),
      expect.stringMatching(/^RATE_LIMIT_GLOBAL must be/),
      "ALLOWED_COUNTRIES entries #2, #3 are not ISO 3166-1 alpha-2 codes of countries with phone numbers (e.g. US,GB,DE)",
    ]);
    const text = problems.join("\n");
    for (const value of ["sixty", "maybe", "5/10x", "lots", "XX", "usa", "hunter2", "hunter3", "not a certificate", "short-secret"]) {
      expect(text).not.toContain(value);
    }
  });

  it.each([
    [{ REDIS_URL: "http://127.0.0.1:6379" }, "REDIS_URL must be redis://"],
    [{ REDIS_URL: "127.0.0.1:6379" }, "REDIS_URL must be redis://"],
    [{ REDIS_URL: "redis://" }, "REDIS_URL must be redis://"],
    [{ REDIS_URL: "redis://127.0.0.1:6379" }, "PROTECTION_SECRET is required with REDIS_URL"],
    [{ REDIS_PASSWORD: "x" }, "REDIS_PASSWORD is set but REDIS_URL is not"],
    [{ REDIS_CA_CERT: CA }, "REDIS_CA_CERT is set but REDIS_URL is not"],
    [{ DEDUPE_WINDOW_S: "86401" }, "DEDUPE_WINDOW_S must be"],
    [{ DEDUPE_WINDOW_S: "-1" }, "DEDUPE_WINDOW_S must be"],
    [{ ALLOWED_COUNTRIES: " , " }, "ALLOWED_COUNTRIES holds no country code"],
  ])("%j → %s…", (env, message) => {
    const { problems } = parse(env);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(message);
  });
});

describe("store keys", () => {
  const keys = createProtectionKeys(SECRET);

  it("are HMAC-SHA256 of number and text under the secret: stable, and different under another secret", () => {
    const key = keys.dedupe("+14155552671", "code 123456");
    expect(key).toMatch(/^[A-Za-z0-9_-]{43}$/); // 32 bytes, base64url
    expect(keys.dedupe("+14155552671", "code 123456")).toBe(key);
    expect(createProtectionKeys("t".repeat(32)).dedupe("+14155552671", "code 123456")).not.toBe(key);
  });

  it("separate number and text, so no (number, text) pair can stand for another", () => {
    expect(keys.dedupe("+1415555267", "1\ncode")).not.toBe(keys.dedupe("+14155552671", "code"));
    expect(keys.dedupe("+14155552671", "code 123456")).not.toBe(keys.dedupe("+14155552671", "code 123457"));
  });

  it("group a number range by all but the last 3 digits", () => {
    expect(numberPrefix("+14155552671")).toBe("+14155552");
    expect(keys.prefix("+14155552671")).toBe(keys.prefix("+14155552999"));
    expect(keys.prefix("+14155552671")).not.toBe(keys.prefix("+14155553671"));
    expect(keys.number("+14155552671")).not.toBe(keys.number("+14155552999"));
  });

  it("without a secret (the in-memory store: nothing leaves the process) the record's key is a SHA-256, never the text", () => {
    const local = createProtectionKeys(undefined);
    const key = local.dedupe("+14155552671", "code 123456");
    expect(key).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(key).not.toContain("123456");
    expect(local.dedupe("+14155552671", "code 123456")).toBe(key);
    expect(local.dedupe("+14155552671", "code 123457")).not.toBe(key);
    expect(local.dedupe("+1415555267", "1\ncode")).not.toBe(local.dedupe("+14155552671", "code"));
    expect(local.prefix("+14155552671")).toBe(local.prefix("+14155552999"));
    expect(local.number("+14155552671")).not.toBe(local.number("+14155552999"));
    expect(key).not.toBe(keys.dedupe("+14155552671", "code 123456")); // the shared store's keys are keyed
  });
});
