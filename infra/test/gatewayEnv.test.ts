// Table tests for the pure helpers that decide the container's environment and image references.

import { describe, expect, test } from "vitest";
import { DOCKERFILES, imageByDigest, registryHost } from "../containerImage.js";
import { gatewayEnv, type GatewayEnvInputs } from "../gatewayEnv.js";

const base: GatewayEnvInputs<string> = {
  config: {
    gcpProject: "proj",
    twilioAccountSid: "AC1",
    twilioSender: { fromNumber: "+15551234567" },
    twilioUseSenderId: false,
    gatewayPath: "/send-sms",
    concurrency: 80,
  },
  apiKey: { secret: "api-key", version: "7" },
  twilioAuthToken: { secret: "twilio", version: "2" },
};

describe("gatewayEnv", () => {
  test("secrets are references pinned to a version; the rest are plain values", () => {
    const env = gatewayEnv(base);
    expect(env).toContainEqual({ name: "GATEWAY_API_KEY", valueSource: { secretKeyRef: { secret: "api-key", version: "7" } } });
    expect(env).toContainEqual({ name: "TWILIO_AUTH_TOKEN", valueSource: { secretKeyRef: { secret: "twilio", version: "2" } } });
    expect(env.filter((e) => "valueSource" in e)).toHaveLength(2);
  });

  test.each([
    ["from number", { fromNumber: "+15551234567" }, "TWILIO_FROM_NUMBER", "+15551234567"],
    ["messaging service", { messagingServiceSid: "MGabc" }, "TWILIO_MESSAGING_SERVICE_SID", "MGabc"],
  ])("a %s sets exactly its own variable", (_, sender, name, value) => {
    const env = gatewayEnv({ ...base, config: { ...base.config, twilioSender: sender } });
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
