import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeTwilio, type FakeTwilio, type TwilioFault } from "../../scripts/emulators/twilio.ts";
import { createLogProvider } from "../src/providers/log.ts";
import { API_KEY, AUTH_TOKEN, OTP_BODY, SECOND_KEY, post, startTestGateway } from "./support.ts";

/**
 * Every kind of send, with logs captured: none of them may carry the SMS text (it holds the OTP), an API key
 * or the Twilio auth token — successes, validation failures, provider faults and the log provider alike.
 */
describe("logs never carry secrets or SMS text", () => {
  let fake: FakeTwilio;
  beforeAll(async () => {
    fake = await startFakeTwilio();
  });
  afterAll(() => fake.close());

  const otps = Array.from({ length: 12 }, (_, i) => `OTP-${String(900_000 + i * 7919)}`);
  const faults: (TwilioFault | undefined)[] = [
    undefined,
    { kind: "error", status: 400, code: 21211 },
    { kind: "error", status: 500, code: 20500 },
    { kind: "rateLimit" },
    { kind: "invalidJson" },
    { kind: "reset" },
  ];

  function assertClean(logs: string[], secrets: string[]) {
    expect(logs.length).toBeGreaterThan(0);
    const all = logs.join("");
    for (const secret of secrets) expect(all).not.toContain(secret);
    // Nothing that would let a reader rebuild the full destination number either.
    expect(all).not.toContain(OTP_BODY.phone_number);
  }

  it("through Twilio, for every outcome", async () => {
    const gw = await startTestGateway({ twilioBaseUrl: fake.url, sendTimeoutMs: 1000 });
    try {
      for (const [i, otp] of otps.entries()) {
        const fault = faults[i % faults.length];
        if (fault) fake.enqueue(fault);
        await post(`${gw.url}/send-sms`, { ...OTP_BODY, message: `Your Acme code is ${otp}` });
      }
      // Invalid requests carrying the same secrets in every field.
      await post(`${gw.url}/send-sms`, { phone_number: "bad", message: `code ${otps[0]}` });
      await post(`${gw.url}/send-sms`, { ...OTP_BODY, message: `${otps[1]}`.repeat(400) });
      await post(`${gw.url}/send-sms`, `{"message": "${otps[2]}"`);
      await post(`${gw.url}/send-sms`, OTP_BODY, { "X-API-Key": `${API_KEY}x` });
      await fetch(`${gw.url}/send-sms`, { headers: { "X-API-Key": SECOND_KEY, "X-Verification-Key": "v" } });
      assertClean(gw.logs, [...otps, API_KEY, SECOND_KEY, AUTH_TOKEN, `${API_KEY}x`]);
      // The texts did reach Twilio. Not necessarily the first: with a 1 s deadline, a first send that waits for the SDK
      // to load on a loaded machine may find too little time left to start (and rightly sends nothing).
      expect(fake.received.some((r) => otps.some((otp) => r.body?.includes(otp)))).toBe(true);
    } finally {
      await gw.close();
    }
  });

  it("through the log provider", async () => {
    const gw = await startTestGateway({ provider: (logger) => createLogProvider(logger) });
    try {
      for (const otp of otps) {
        const res = await post(`${gw.url}/send-sms`, { ...OTP_BODY, message: `Your Acme code is ${otp}` });
        expect(res.status).toBe(200);
      }
      assertClean(gw.logs, [...otps, API_KEY, SECOND_KEY]);
      expect(gw.logs.some((l) => l.includes('"bodyLength"'))).toBe(true);
    } finally {
      await gw.close();
    }
  });
});
