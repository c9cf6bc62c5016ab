/**
 * End to end, as in production: the Mosaic emulator (which retries a 5xx or a timeout twice, as Mosaic's webhooks
 * do) → the gateway → the real `twilio` SDK → a fake Twilio that received the SMS but whose answer was lost.
 * The gateway must say plainly that the outcome is unknown; a retry then re-sends the OTP until duplicate
 * suppression (issue 11) recognises the repeat.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startFakeTwilio, type FakeTwilio, type TwilioFault } from "../../scripts/emulators/twilio.ts";
import { startMosaicEmulator, type MosaicEmulator } from "../../scripts/emulators/mosaic.ts";
import type { HttpDeps } from "../../scripts/register/http.ts";
import { fetchToken, putSmsProvider } from "../../scripts/register/mosaic-client.ts";
import { API_KEY, startTestGateway, type TestGateway } from "./support.ts";

const DEADLINE_MS = 600;
const MOSAIC = { clientId: "unknown-outcome-app", clientSecret: "unknown-outcome-secret-0a9b8c" };

const LOST_ANSWERS: [string, number, TwilioFault][] = [
  ["Twilio answers 500", 502, { kind: "error", status: 500, code: 20500 }],
  ["the connection resets after the request", 502, { kind: "reset" }],
  ["the 201 comes after the deadline", 504, { kind: "slow", ms: DEADLINE_MS + 300 }],
];

describe("an unknown outcome, end to end through the Mosaic emulator", () => {
  let fake: FakeTwilio;
  let gw: TestGateway;
  let mosaic: MosaicEmulator;
  beforeAll(async () => {
    fake = await startFakeTwilio();
    gw = await startTestGateway({ twilioBaseUrl: fake.url, sendTimeoutMs: DEADLINE_MS });
    mosaic = await startMosaicEmulator({ ...MOSAIC, sendRetryDelayMs: 1 });
    const http: HttpDeps = { fetch, timeoutMs: 5000, retry: { retries: 0, minTimeoutMs: 1, maxTimeoutMs: 1 } };
    const token = await fetchToken(http, mosaic.url, MOSAIC.clientId, MOSAIC.clientSecret);
    await putSmsProvider(http, mosaic.url, token, { provider: "CustomGateway", custom_gateway: { uri: `${gw.url}/send-sms`, api_key: API_KEY } });
  });
  afterAll(async () => {
    await mosaic.close();
    await gw.close();
    await fake.close();
  });
  beforeEach(() => fake.reset());

  it.each(LOST_ANSWERS)("%s: every answer Mosaic gets is %i outcome_unknown, saying the SMS may have been sent", async (_label, status, fault) => {
    fake.always(fault);
    const result = await mosaic.sendOtp({ phone_number: "+14155552671" });
    expect(result.attempts).toBe(3);
    expect(result.status).toBe(status);
    expect(result.response).toEqual({ error: { code: "outcome_unknown", message: expect.stringMatching(/may or may not have been sent/) } });
  });

  // Expected to fail until duplicate suppression lands (issue 11): today each of Mosaic's three attempts reaches
  // Twilio, so the fake receives the OTP three times. When this starts passing, drop `.fails`.
  it.fails.each(LOST_ANSWERS)("%s: the OTP reaches Twilio once however often Mosaic retries", async (_label, _status, fault) => {
    fake.always(fault);
    await mosaic.sendOtp({ phone_number: "+14155552671" });
    expect(fake.received).toHaveLength(1);
  });
});
