// Table tests for the pure helpers that decide the container's environment and image references.

import { describe, expect, test } from "vitest";
import { DOCKERFILES, imageByDigest, registryHost } from "../containerImage.js";
import { gatewayEnv, type GatewayEnvInputs } from "../gatewayEnv.js";

const base: GatewayEnvInputs<string> = {
  config: {
    gcpProject: "proj",
    gatewayPath: "/send-sms",
    concurrency: 80,
    protection: { sharedState: { kind: "memory" }, settings: {} },
    receipts: { otpValiditySeconds: "600", telnyxPublicKey: undefined },
    delivery: {
      provider: "twilio",
      routes: undefined,
      failoverOnUnknown: false,
      twilio: { accountSid: "AC1", authToken: "unused", fromNumber: "+15551234567", messagingServiceSid: undefined, useSenderId: false },
      smc: undefined,
      telnyx: undefined,
    },
  },
  secrets: { apiKey: { secret: "api-key", version: "7" }, twilioAuthToken: { secret: "twilio", version: "2" } },
  publicBaseUrl: "https://sms-gateway-dev-123456789012.us-central1.run.app",
};
const withTwilio = (twilio: Partial<NonNullable<(typeof base)["config"]["delivery"]["twilio"]>>) => ({
  ...base,
  config: { ...base.config, delivery: { ...base.config.delivery, twilio: { ...base.config.delivery.twilio!, ...twilio } } },
});

describe("gatewayEnv", () => {
  test("secrets are references pinned to a version; the rest are plain values", () => {
    const env = gatewayEnv(base);
    expect(env).toContainEqual({ name: "GATEWAY_API_KEY", valueSource: { secretKeyRef: { secret: "api-key", version: "7" } } });
    expect(env).toContainEqual({ name: "TWILIO_AUTH_TOKEN", valueSource: { secretKeyRef: { secret: "twilio", version: "2" } } });
    expect(env.filter((e) => "valueSource" in e)).toHaveLength(2);
  });

  test.each([
    ["from number", { fromNumber: "+15551234567" }, "TWILIO_FROM_NUMBER", "+15551234567"],
    ["messaging service", { fromNumber: undefined, messagingServiceSid: "MGabc" }, "TWILIO_MESSAGING_SERVICE_SID", "MGabc"],
  ])("a %s sets exactly its own variable", (_, sender, name, value) => {
    const env = gatewayEnv(withTwilio(sender));
    const senders = env.filter((e) => e.name.startsWith("TWILIO_FROM") || e.name.startsWith("TWILIO_MESSAGING"));
    expect(senders).toEqual([{ name, value }]);
  });

  test.each([
    ["CONCURRENCY", "80"],
    ["GATEWAY_PATH", "/send-sms"],
    ["GOOGLE_CLOUD_PROJECT", "proj"],
    ["SMS_PROVIDER", "twilio"],
    ["TWILIO_USE_SENDER_ID", "false"],
  ])("%s=%s", (name, value) => {
    expect(gatewayEnv(base)).toContainEqual({ name, value });
  });

  test("a Twilio-only stack gets the variables it always had, in the same order, then the receipts' two", () => {
    expect(gatewayEnv(base).map((e) => e.name)).toEqual([
      "SMS_PROVIDER",
      "GATEWAY_PATH",
      "GATEWAY_API_KEY",
      "TWILIO_ACCOUNT_SID",
      "TWILIO_AUTH_TOKEN",
      "TWILIO_FROM_NUMBER",
      "TWILIO_USE_SENDER_ID",
      "CONCURRENCY",
      "GOOGLE_CLOUD_PROJECT",
      "PUBLIC_BASE_URL",
      "OTP_VALIDITY_S",
    ]);
  });

  test("no Twilio variable when the routes do not use Twilio", () => {
    const env = gatewayEnv({
      ...base,
      config: { ...base.config, delivery: { ...base.config.delivery, provider: "telnyx", twilio: undefined, telnyx: { apiKey: "x", fromNumber: "+15551230000", messagingProfileId: undefined } } },
      secrets: { apiKey: base.secrets.apiKey, telnyxApiKey: { secret: "telnyx", version: "1" } },
    });
    expect(env.map((e) => e.name).filter((n) => n.startsWith("TWILIO_"))).toEqual([]);
    expect(env).toContainEqual({ name: "SMS_PROVIDER", value: "telnyx" });
    expect(env).toContainEqual({ name: "TELNYX_API_KEY", valueSource: { secretKeyRef: { secret: "telnyx", version: "1" } } });
  });

  test("never sets PORT, which Cloud Run owns", () => {
    expect(gatewayEnv(base).map((e) => e.name)).not.toContain("PORT");
  });
});

describe("image references", () => {
  test.each([
    ["us-central1", "us-central1-docker.pkg.dev"],
    ["europe-west4", "europe-west4-docker.pkg.dev"],
  ])("registry host for %s", (region, host) => {
    expect(registryHost(region)).toBe(host);
  });

  test("by digest", () => {
    expect(imageByDigest("h/p/r", "img", "sha256:00")).toBe("h/p/r/img@sha256:00");
  });

  test("each runtime has its Dockerfile", () => {
    expect(DOCKERFILES).toEqual({ node: "gateway/Dockerfile", deno: "gateway/Dockerfile.deno" });
  });
});
