import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeTwilio, type FakeTwilio } from "../../scripts/emulators/twilio.ts";
import { bundleCommand, REPO_ROOT, type Runtime } from "../../scripts/processes.ts";
import { startGateway } from "../../scripts/sandbox/processes.ts";
import { ACCOUNT_SID, API_KEY, AUTH_TOKEN, OTP_BODY, post } from "./support.ts";

/**
 * Both images ship only dist/ (gateway/Dockerfile, gateway/Dockerfile.deno): the bundle must run with no
 * node_modules beside it, and its lazily imported Twilio chunk must be found. Built here, copied to an empty
 * directory, started on each runtime, and made to send through the fake Twilio (which loads that chunk).
 */
describe("the bundle the images ship", () => {
  let shipped: string;
  let fake: FakeTwilio;
  beforeAll(async () => {
    execFileSync("npm", ["run", "--silent", "build"], { cwd: REPO_ROOT, stdio: "ignore" });
    shipped = mkdtempSync(path.join(tmpdir(), "gateway-image-"));
    cpSync(path.join(REPO_ROOT, "dist"), shipped, { recursive: true });
    fake = await startFakeTwilio();
  });
  afterAll(async () => {
    await fake?.close();
    if (shipped) rmSync(shipped, { recursive: true, force: true });
  });

  it.each<Runtime>(["node", "deno"])("runs on %s from dist/ alone and sends through the lazily loaded SDK", async (runtime) => {
    expect(readdirSync(shipped)).not.toContain("node_modules");
    const before = fake.received.length;
    const gateway = await startGateway(
      bundleCommand(runtime, shipped),
      {
        GATEWAY_API_KEY: API_KEY,
        TWILIO_ACCOUNT_SID: ACCOUNT_SID,
        TWILIO_AUTH_TOKEN: AUTH_TOKEN,
        TWILIO_FROM_NUMBER: "+15005550006",
        TWILIO_API_BASE_URL: fake.url,
      },
      () => {},
    );
    try {
      const url = `http://127.0.0.1:${gateway.port}/send-sms`;
      const challenge = await fetch(url, { headers: { "X-API-Key": API_KEY, "X-Verification-Key": "shipped" } });
      expect(await challenge.json()).toEqual({ key: "shipped" });
      const res = await post(url, OTP_BODY);
      expect(res.status).toBe(200);
      expect(fake.received.length).toBe(before + 1);
    } finally {
      expect(await gateway.stop()).toBe(0);
    }
  });
});
