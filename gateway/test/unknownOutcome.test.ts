/**
 * End to end, as in production: the Mosaic emulator (which retries a 5xx or a timeout twice, as Mosaic's webhooks
 * do) → the gateway → the real `twilio` SDK → a fake Twilio that received the SMS but whose answer was lost.
 *
 * Without duplicate suppression (DEDUPE_WINDOW_S=0) the gateway says plainly that the outcome is unknown, and every
 * retry sends the OTP again (issue 8, item 6). With it (the default, issue 11) the retry asks Twilio — the Messages
 * list, read through the same SDK — finds the first send and answers 200 with its id: one SMS per OTP. Where the
 * provider cannot be asked (Telnyx has no list of sent messages), ON_UNKNOWN_REPEAT decides.
 *
 * "SMS" here are the Messages the fake created — what would reach the handset — not the POSTs it received.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startFakeTelnyx, type FakeTelnyx } from "../../scripts/emulators/telnyx.ts";
import { startFakeTwilio, type FakeTwilio, type TwilioFault } from "../../scripts/emulators/twilio.ts";
import { startMosaicEmulator, type MosaicEmulator } from "../../scripts/emulators/mosaic.ts";
import type { HttpDeps } from "../../scripts/register/http.ts";
import { fetchToken, putSmsProvider } from "../../scripts/register/mosaic-client.ts";
import { createTelnyxProvider } from "../src/providers/telnyx/index.ts";
import { API_KEY, post, startTestGateway, type TestGateway, type TestProtection } from "./support.ts";

const DEADLINE_MS = 600;
const MOSAIC = { clientId: "unknown-outcome-app", clientSecret: "unknown-outcome-secret-0a9b8c" };
const PHONE = "+14155552671";

/** Faults after which Twilio has the message but the gateway never learnt its id. */
const LOST_ANSWERS: [string, number, TwilioFault][] = [
  ["Twilio took the message but answered 500", 502, { kind: "error", status: 500, code: 20500, created: true }],
  ["the connection resets after the request", 502, { kind: "reset" }],
  ["the 201 comes after the deadline", 504, { kind: "slow", ms: DEADLINE_MS + 300 }],
];

/** A Mosaic tenant whose custom gateway is `gatewayUrl`. */
async function registerWith(mosaic: MosaicEmulator, gatewayUrl: string): Promise<void> {
  const http: HttpDeps = { fetch, timeoutMs: 5000, retry: { retries: 0, minTimeoutMs: 1, maxTimeoutMs: 1 } };
  const token = await fetchToken(http, mosaic.url, MOSAIC.clientId, MOSAIC.clientSecret);
  await putSmsProvider(http, mosaic.url, token, { provider: "CustomGateway", custom_gateway: { uri: `${gatewayUrl}/send-sms`, api_key: API_KEY } });
}

/**
 * One send to another number first: the SDK loads on the first send (in production right after listening), which
 * on a loaded machine can take longer than this suite's short deadline.
 */
async function warmUp(gw: TestGateway, fake: FakeTwilio): Promise<void> {
  fake.reset();
  const res = await post(`${gw.url}/send-sms`, { phone_number: "+14155550199", message: "warm-up" });
  expect(res.status).toBe(200);
}

/** The sms.send lines the gateway wrote, parsed. */
function sendLines(gw: TestGateway): Record<string, unknown>[] {
  return gw.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.event === "sms.send");
}

describe("an unknown outcome, end to end through the Mosaic emulator", () => {
  let fake: FakeTwilio;
  let mosaic: MosaicEmulator;
  let gw: TestGateway;

  beforeAll(async () => {
    fake = await startFakeTwilio();
    mosaic = await startMosaicEmulator({ ...MOSAIC, sendRetryDelayMs: 1 });
  });
  afterAll(async () => {
    await mosaic.close();
    await fake.close();
  });
  beforeEach(() => fake.reset());

  describe("without duplicate suppression (DEDUPE_WINDOW_S=0)", () => {
    beforeAll(async () => {
      gw = await startTestGateway({ twilioBaseUrl: fake.url, sendTimeoutMs: DEADLINE_MS, protection: { dedupe: { windowMs: 0 } } });
      await warmUp(gw, fake);
      await registerWith(mosaic, gw.url);
    });
    afterAll(() => gw.close());

    it.each(LOST_ANSWERS)("%s: every answer is %i outcome_unknown, and each retry sends the OTP again", async (_label, status, fault) => {
      fake.always(fault);
      const result = await mosaic.sendOtp({ phone_number: PHONE });
      expect(result.attempts).toBe(3);
      expect(result.status).toBe(status);
      expect(result.response).toEqual({ error: { code: "outcome_unknown", message: expect.stringMatching(/may or may not have been sent/) } });
      expect(fake.created).toHaveLength(3);
    });
  });

  describe("with duplicate suppression (the default): the retry asks Twilio", () => {
    beforeAll(async () => {
      gw = await startTestGateway({ twilioBaseUrl: fake.url, sendTimeoutMs: DEADLINE_MS, protection: {} });
      await warmUp(gw, fake);
      await registerWith(mosaic, gw.url);
    });
    afterAll(() => gw.close());

    it.each(LOST_ANSWERS)("%s (%i first): one SMS however often Mosaic retries, and its id in the answer", async (_label, status, fault) => {
      fake.always(fault);
      const result = await mosaic.sendOtp({ phone_number: PHONE });
      expect(fake.created).toHaveLength(1);
      expect(fake.received).toHaveLength(1);
      // The first answer was outcome_unknown; Mosaic's first retry found the message through the look-up.
      expect(result.attempts).toBe(2);
      expect(result.status).toBe(200);
      expect(result.response).toEqual({ status: "sent", provider: "twilio", id: fake.created[0]!.sid, deduplicated: true });
      const lines = sendLines(gw).slice(-2);
      expect(lines.map((l) => l.outcome)).toEqual(["outcome_unknown", "deduplicated"]);
      expect(lines[0]).toMatchObject({ attempts: [{ provider: "twilio", outcome: "unknown" }] });
      expect(lines[1]).toMatchObject({ dedupe: "lookup", attempts: [], providerMessageId: fake.created[0]!.sid });
      expect(status).toBeGreaterThanOrEqual(502);
    });

    it("a 500 after which Twilio created nothing: the look-up says absent, the retry sends, one SMS", async () => {
      fake.enqueue({ kind: "error", status: 500, code: 20500 });
      const result = await mosaic.sendOtp({ phone_number: PHONE });
      expect(result).toMatchObject({ attempts: 2, status: 200, response: { status: "sent", id: fake.created[0]?.sid } });
      expect(result.response).not.toHaveProperty("deduplicated");
      expect(fake.received).toHaveLength(2);
      expect(fake.created).toHaveLength(1);
    });
  });
});

describe("where the provider cannot tell (Telnyx: no list of sent messages), ON_UNKNOWN_REPEAT decides", () => {
  let telnyx: FakeTelnyx;
  let mosaic: MosaicEmulator;
  beforeAll(async () => {
    telnyx = await startFakeTelnyx({ apiKey: "KEYunknown-outcome" });
    mosaic = await startMosaicEmulator({ ...MOSAIC, sendRetryDelayMs: 1 });
  });
  afterAll(async () => {
    await mosaic.close();
    await telnyx.close();
  });
  beforeEach(() => telnyx.reset());

  async function withGateway(protection: TestProtection, run: (gw: TestGateway) => Promise<void>): Promise<void> {
    const gw = await startTestGateway({
      provider: (_logger, transport) =>
        createTelnyxProvider({ apiKey: "KEYunknown-outcome", fromNumber: "+14155550111", messagingProfileId: undefined, apiBaseUrl: telnyx.url }, { transport }),
      sendTimeoutMs: DEADLINE_MS,
      protection,
    });
    try {
      await registerWith(mosaic, gw.url);
      await run(gw);
    } finally {
      await gw.close();
    }
  }

  it("send (default): each retry sends again — a possible duplicate rather than a lost OTP", async () => {
    await withGateway({}, async () => {
      telnyx.always({ kind: "reset" });
      const result = await mosaic.sendOtp({ phone_number: PHONE });
      expect(result).toMatchObject({ attempts: 3, status: 502, response: { error: { code: "outcome_unknown" } } });
      expect(telnyx.received).toHaveLength(3);
    });
  });

  it("suppress: the retries send nothing and keep saying the outcome is unknown — one request at Telnyx", async () => {
    await withGateway({ dedupe: { onUnknownRepeat: "suppress" } }, async (gw) => {
      telnyx.always({ kind: "reset" });
      const result = await mosaic.sendOtp({ phone_number: PHONE });
      expect(result).toMatchObject({ attempts: 3, status: 502, response: { error: { code: "outcome_unknown" } } });
      expect((result.response as { error: { message: string } }).error.message).toMatch(/ON_UNKNOWN_REPEAT=suppress/);
      expect(telnyx.received).toHaveLength(1);
      expect(sendLines(gw).map((l) => l.attempts)).toEqual([[expect.objectContaining({ provider: "telnyx", outcome: "unknown" })], [], []]);
    });
  });
});
