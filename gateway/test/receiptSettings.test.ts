// Which receipts a configuration takes, and what the startup line says about it (receipts/settings.ts): one pure
// decision that the mounted routes, the providers' callback URLs and the startup log all follow.
import { describe, expect, it } from "vitest";
import type { TwilioConfig } from "../src/config.ts";
import { receiptSettings, receiptsStartupLine, type ReceiptConfig } from "../src/receipts/settings.ts";
import { AUTH_TOKEN, twilioConfig } from "./support.ts";

const PUBLIC = "https://sms-gateway-abc123-uc.a.run.app";
const KEY = Buffer.alloc(32, 3).toString("base64");
const TOKEN_AUTH = twilioConfig("https://api.twilio.com");
const API_KEY_AUTH: TwilioConfig = twilioConfig("https://api.twilio.com", {
  auth: { kind: "apiKey", keySid: `SK${"1".repeat(32)}`, keySecret: "key-secret-never-logged" },
});

const config = (overrides: Partial<ReceiptConfig>): ReceiptConfig => ({
  publicBaseUrl: PUBLIC,
  twilio: TOKEN_AUTH,
  telnyxPublicKey: KEY,
  ...overrides,
});

describe("receiptSettings", () => {
  it("everything set: both on, the callback URLs under the public origin", () => {
    expect(receiptSettings(config({}))).toEqual({
      publicBaseUrl: PUBLIC,
      twilio: { enabled: true, authToken: AUTH_TOKEN, publicBaseUrl: PUBLIC },
      telnyx: { enabled: true, publicKey: KEY, webhookUrl: `${PUBLIC}/receipts/telnyx` },
    });
  });

  it.each<[string, Partial<ReceiptConfig>, RegExp]>([
    ["an API key instead of the auth token", { twilio: API_KEY_AUTH }, /auth token.*API key/],
    ["no public base URL", { publicBaseUrl: undefined }, /PUBLIC_BASE_URL/],
    ["Twilio not configured", { twilio: undefined }, /not configured/],
  ])("Twilio off with %s, and says why", (_label, overrides, reason) => {
    expect(receiptSettings(config(overrides)).twilio).toEqual({ enabled: false, reason: expect.stringMatching(reason) });
  });

  it("Telnyx off without TELNYX_PUBLIC_KEY, and says where the key is", () => {
    expect(receiptSettings(config({ telnyxPublicKey: undefined })).telnyx).toEqual({
      enabled: false,
      reason: expect.stringContaining("set TELNYX_PUBLIC_KEY (Mission Control"),
    });
  });

  it("Telnyx without a public base URL: the endpoint is on (profile webhooks), sends name no webhook_url", () => {
    expect(receiptSettings(config({ publicBaseUrl: undefined })).telnyx).toEqual({
      enabled: true,
      publicKey: KEY,
      webhookUrl: undefined,
      note: expect.stringContaining("no webhook_url"),
    });
  });
});

describe("receiptsStartupLine", () => {
  it.each<[string, Partial<ReceiptConfig>, ("twilio" | "telnyx" | "smc" | "log")[], string, Record<string, RegExp>]>([
    [
      "both on",
      {},
      ["twilio", "telnyx"],
      "INFO",
      { twilio: /^on: POST \/receipts\/twilio, each send's StatusCallback under https:/, telnyx: /^on: POST \/receipts\/telnyx, each send's webhook_url is https:/ },
    ],
    ["Twilio with an API key", { twilio: API_KEY_AUTH, telnyxPublicKey: undefined }, ["twilio"], "WARNING", { twilio: /^Twilio delivery receipts are off: .*API key/ }],
    ["no public base URL", { publicBaseUrl: undefined, telnyxPublicKey: undefined }, ["twilio"], "WARNING", { twilio: /PUBLIC_BASE_URL/ }],
    ["Telnyx without its key", { telnyxPublicKey: undefined }, ["telnyx"], "WARNING", { telnyx: /set TELNYX_PUBLIC_KEY/ }],
    ["SMC alone: none by design, not a warning", { twilio: undefined, telnyxPublicKey: undefined }, ["smc"], "INFO", { smc: /^none: MobileConnect pushes no delivery receipts/ }],
    ["the log provider: nothing to say", { twilio: undefined, telnyxPublicKey: undefined }, ["log"], "INFO", {}],
    ["a Telnyx key without Telnyx in the routes: its endpoint is on, said so", {}, ["twilio"], "INFO", { twilio: /^on/, telnyx: /^on/ }],
  ])("%s", (_label, overrides, providers, severity, expected) => {
    const line = receiptsStartupLine(receiptSettings(config(overrides)), providers);
    expect(line.message).toBe("delivery receipts");
    expect(line.severity).toBe(severity);
    const receipts = line.fields.receipts as Record<string, string>;
    expect(Object.keys(receipts).sort()).toEqual(Object.keys(expected).sort());
    for (const [provider, pattern] of Object.entries(expected)) expect(receipts[provider]).toMatch(pattern);
  });

  it("never names a secret", () => {
    const text = JSON.stringify([
      receiptsStartupLine(receiptSettings(config({})), ["twilio", "telnyx", "smc"]),
      receiptsStartupLine(receiptSettings(config({ twilio: API_KEY_AUTH })), ["twilio"]),
    ]);
    expect(text).not.toContain(AUTH_TOKEN);
    expect(text).not.toContain("key-secret-never-logged");
    expect(text).not.toContain(KEY);
  });
});
