import { describe, expect, it } from "vitest";
import { childEnv, sourceCommand } from "../processes.ts";
import { formatGatewayLog, formatReceipt } from "../sandbox/run.ts";

describe("sandbox helpers", () => {
  it.each([
    [{ severity: "INFO", message: "listening", port: 5, time: "t" }, "INFO listening port=5"],
    [
      { severity: "INFO", message: "POST /send-sms 200", httpRequest: { status: 200 }, latencyMs: 49, provider: "twilio" },
      "INFO POST /send-sms 200 (49 ms) provider=twilio",
    ],
    [{ note: "no message" }, "raw note=no message"],
  ])("formats gateway log %j", (entry, expected) => {
    expect(formatGatewayLog(entry, "raw")).toBe(expected);
  });

  it.each([
    [{ provider: "twilio", status: "delivered", deliverySeconds: 0.25, country: "US", destination: "+1********23" }, "twilio  delivered after 0.25 s, US +1********23"],
    [{ provider: "telnyx", status: "undelivered", providerErrorCode: "40008", country: "GB", destination: "+44********56" }, "telnyx  undelivered (error 40008), GB +44********56"],
  ])("formats receipt line %j", (line, expected) => {
    expect(formatReceipt(line)).toBe(expected);
  });

  it("never hands the parent's provider or Mosaic credentials to a child", () => {
    const saved = { ...process.env };
    Object.assign(process.env, { TWILIO_AUTH_TOKEN: "real", MOSAIC_CLIENT_SECRET: "real", GATEWAY_API_KEY: "real", GOOGLE_APPLICATION_CREDENTIALS: "/x", PUBLIC_BASE_URL: "https://real.example", REDIS_URL: "rediss://real:6378", PROTECTION_SECRET: "real", RATE_LIMIT_PER_NUMBER: "1/1h", CONCURRENCY: "1" });
    try {
      const env = childEnv({ GATEWAY_API_KEY: "sandbox" });
      expect(env).toMatchObject({ GATEWAY_API_KEY: "sandbox" });
      expect(env.TWILIO_AUTH_TOKEN).toBeUndefined();
      expect(env.MOSAIC_CLIENT_SECRET).toBeUndefined();
      expect(env.GOOGLE_APPLICATION_CREDENTIALS).toBeUndefined();
      expect(env.PUBLIC_BASE_URL).toBeUndefined();
      for (const setting of ["REDIS_URL", "PROTECTION_SECRET", "RATE_LIMIT_PER_NUMBER", "CONCURRENCY"]) expect(env[setting]).toBeUndefined();
      expect(env.PATH).toBe(process.env.PATH);
    } finally {
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
      Object.assign(process.env, saved);
    }
  });

  it("starts the same gateway source on both runtimes", () => {
    expect(sourceCommand("node").args.at(-1)).toMatch(/gateway\/src\/main\.ts$/);
    expect(sourceCommand("deno")).toMatchObject({ file: expect.stringMatching(/node_modules\/\.bin\/deno$/), args: expect.arrayContaining(["run", "--allow-net"]) });
  });
});
