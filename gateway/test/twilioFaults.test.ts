import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startFakeTwilio, type FakeTwilio, type TwilioFault } from "../../scripts/emulators/twilio.ts";
import { createTwilioProvider } from "../src/providers/twilio/index.ts";
import { ACCOUNT_SID, OTP_BODY, SERVICE_SID, errorCode, post, startTestGateway, twilioConfig, type TestGateway } from "./support.ts";

const DEADLINE_MS = 800;
/** Scheduling slack on a loaded 2-core CI machine; the deadline itself is what the gateway enforces. */
const SLACK_MS = 250;

/**
 * The real `twilio` SDK, through the gateway, against a fake Twilio that misbehaves on purpose. For each fault:
 * the status Mosaic gets, that it gets it inside the deadline, and how many requests reached Twilio — a 5xx,
 * a reset or a hang must never be re-sent (the OTP could arrive twice); a 429 is never processed, so it may be.
 */
describe("Twilio faults through the real SDK", () => {
  let fake: FakeTwilio;
  let gw: TestGateway;
  beforeAll(async () => {
    fake = await startFakeTwilio();
    gw = await startTestGateway({ twilioBaseUrl: fake.url, sendTimeoutMs: DEADLINE_MS });
  });
  afterAll(async () => {
    await gw.close();
    await fake.close();
  });
  beforeEach(() => fake.reset());

  it("delivers: To, From and Body as sent, authenticated as the account", async () => {
    const res = await post(`${gw.url}/send-sms`, OTP_BODY);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { id: string };
    expect(body).toMatchObject({ status: "sent", provider: "twilio" });
    expect(body.id).toMatch(/^SM[0-9a-f]{32}$/);
    expect(fake.received).toEqual([
      expect.objectContaining({
        accountSid: ACCOUNT_SID,
        username: ACCOUNT_SID,
        to: "+14155552671",
        from: "+15005550006",
        messagingServiceSid: null,
        body: OTP_BODY.message,
        answeredWith: 201,
      }),
    ]);
  });

  it.each<[string, TwilioFault[], TwilioFault | undefined, number, string, number]>([
    ["400/21211 invalid To → 422", [{ kind: "error", status: 400, code: 21211 }], undefined, 422, "destination_rejected", 1],
    ["400/21610 unsubscribed → 422", [{ kind: "error", status: 400, code: 21610 }], undefined, 422, "destination_rejected", 1],
    ["400/21606 bad From → 502", [{ kind: "error", status: 400, code: 21606 }], undefined, 502, "provider_error", 1],
    ["429 then 201 → 200", [{ kind: "rateLimit" }], undefined, 200, "", 2],
    ["500 → 502", [{ kind: "error", status: 500, code: 20500 }], undefined, 502, "provider_error", 1],
    ["a non-JSON 201 → 502", [{ kind: "invalidJson" }], undefined, 502, "provider_error", 1],
    ["a connection reset → 502", [{ kind: "reset" }], undefined, 502, "provider_error", 1],
    ["a hang past the deadline → 504", [{ kind: "hang" }], undefined, 504, "provider_timeout", 1],
  ])("%s", async (_label, queued, standing, status, code, requests) => {
    fake.enqueue(...queued);
    fake.always(standing);
    const started = performance.now();
    const res = await post(`${gw.url}/send-sms`, OTP_BODY);
    const elapsed = performance.now() - started;
    expect(res.status).toBe(status);
    if (code) expect((await errorCode(res))).toBe(code);
    expect(elapsed).toBeLessThan(DEADLINE_MS + SLACK_MS);
    expect(fake.received).toHaveLength(requests);
  });

  it("429 forever → 503 inside the deadline, having retried only while time remained", async () => {
    fake.always({ kind: "rateLimit" });
    const started = performance.now();
    const res = await post(`${gw.url}/send-sms`, OTP_BODY);
    expect(res.status).toBe(503);
    expect((await errorCode(res))).toBe("provider_rate_limited");
    expect(performance.now() - started).toBeLessThan(DEADLINE_MS + SLACK_MS);
    expect(fake.received.length).toBeGreaterThan(1);
    expect(fake.received.every((r) => r.answeredWith === 429)).toBe(true);
  });

  it("a Retry-After longer than the deadline allows is not waited for", async () => {
    fake.enqueue({ kind: "rateLimit", retryAfterSeconds: 5 });
    const started = performance.now();
    const res = await post(`${gw.url}/send-sms`, OTP_BODY);
    expect(res.status).toBe(503);
    expect(performance.now() - started).toBeLessThan(DEADLINE_MS);
    expect(fake.received).toHaveLength(1);
  });

  it("a refused connection → 502, nothing sent", async () => {
    const closed = await startFakeTwilio();
    const url = closed.url;
    await closed.close();
    const down = await startTestGateway({ twilioBaseUrl: url, sendTimeoutMs: DEADLINE_MS });
    try {
      const res = await post(`${down.url}/send-sms`, OTP_BODY);
      expect(res.status).toBe(502);
      expect((await errorCode(res))).toBe("provider_error");
    } finally {
      await down.close();
    }
  });

  it("reuses kept-alive connections across sends", async () => {
    const before = fake.connections;
    for (let i = 0; i < 5; i++) expect((await post(`${gw.url}/send-sms`, OTP_BODY)).status).toBe(200);
    expect(fake.connections - before).toBeLessThanOrEqual(1);
  });
});

describe("Twilio configurations", () => {
  let fake: FakeTwilio;
  beforeAll(async () => {
    fake = await startFakeTwilio();
  });
  afterAll(() => fake.close());
  beforeEach(() => fake.reset());

  it.each([
    ["a Messaging Service", { sender: { kind: "messagingService", messagingServiceSid: SERVICE_SID } }, "+44 7911 123456", { messagingServiceSid: SERVICE_SID, from: null }],
    ["an API key pair", { auth: { kind: "apiKey", keySid: `SK${"c3".repeat(16)}`, keySecret: "key-secret-xyz" } }, "", { username: `SK${"c3".repeat(16)}`, accountSid: ACCOUNT_SID }],
    ["sender ID opted in, UK destination", { useSenderId: true }, "+447911123456", { from: "Acme" }],
    ["sender ID opted in, US destination", { useSenderId: true }, "+14155552671", { from: "+15005550006" }],
  ] as const)("%s", async (_label, overrides, phone, expected) => {
    const gw = await startTestGateway({
      provider: createTwilioProvider(twilioConfig(fake.url, overrides as never), { maxSockets: 4 }),
    });
    try {
      const number = phone.replace(/ /g, "") || OTP_BODY.phone_number;
      const res = await post(`${gw.url}/send-sms`, { ...OTP_BODY, phone_number: number });
      expect(res.status).toBe(200);
      expect(fake.received).toEqual([expect.objectContaining(expected)]);
    } finally {
      await gw.close();
    }
  });
});
