import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startFakeTwilio, type FakeTwilio, type TwilioFault } from "../../scripts/emulators/twilio.ts";
import { singleRoute } from "../src/delivery/routes.ts";
import { MAX_REQUESTS, MIN_ATTEMPT_MS } from "../src/providers/retry.ts";
import type { SmsProvider } from "../src/providers/provider.ts";
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
    let provider: SmsProvider | undefined;
    gw = await startTestGateway({
      provider: (_logger, transport) => (provider = createTwilioProvider(twilioConfig(fake.url), { transport })),
      sendTimeoutMs: DEADLINE_MS,
    });
    // The SDK loads on the first send (~60 ms, seconds on a loaded machine): load it now, so that each case's
    // 800 ms deadline measures its send and not the import.
    await provider!.warmUp!();
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
    ["400/21606 bad From → 502, not sent", [{ kind: "error", status: 400, code: 21606 }], undefined, 502, "provider_rejected", 1],
    ["429 then 201 → 200", [{ kind: "rateLimit" }], undefined, 200, "", 2],
    ["500 → 502 outcome unknown", [{ kind: "error", status: 500, code: 20500 }], undefined, 502, "outcome_unknown", 1],
    ["503 with code 20429 → 502 outcome unknown, not retried", [{ kind: "error", status: 503, code: 20429 }], undefined, 502, "outcome_unknown", 1],
    ["a non-JSON 201 → 502 outcome unknown", [{ kind: "invalidJson" }], undefined, 502, "outcome_unknown", 1],
    ["a 201 with a null sid → 502 outcome unknown", [{ kind: "missingSid" }], undefined, 502, "outcome_unknown", 1],
    ["a connection reset after the request → 502 outcome unknown", [{ kind: "reset" }], undefined, 502, "outcome_unknown", 1],
    ["a hang past the deadline → 504 outcome unknown", [{ kind: "hang" }], undefined, 504, "outcome_unknown", 1],
    ["a 201 after the deadline → 504 outcome unknown", [{ kind: "slow", ms: DEADLINE_MS + 200 }], undefined, 504, "outcome_unknown", 1],
    ["Retry-After: 0 forever → 503 after at most MAX_REQUESTS", [], { kind: "rateLimit", retryAfterSeconds: 0 }, 503, "provider_rate_limited", MAX_REQUESTS],
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

  it("429 forever → 503 inside the deadline, having tried MAX_REQUESTS times", async () => {
    fake.always({ kind: "rateLimit" });
    const started = performance.now();
    const res = await post(`${gw.url}/send-sms`, OTP_BODY);
    expect(res.status).toBe(503);
    expect((await errorCode(res))).toBe("provider_rate_limited");
    expect(performance.now() - started).toBeLessThan(DEADLINE_MS + SLACK_MS);
    expect(fake.received).toHaveLength(MAX_REQUESTS);
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
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe("provider_rejected");
      expect(body.error.message).toMatch(/was not sent/);
    } finally {
      await down.close();
    }
  });

  it.each([307, 308] as const)("a %i redirect is never followed (the credentials stay home): 502, not sent", async (status) => {
    const elsewhere = await startFakeTwilio();
    try {
      const location = `${elsewhere.url}/2010-04-01/Accounts/${ACCOUNT_SID}/Messages.json`;
      fake.enqueue({ kind: "redirect", status, location });
      const res = await post(`${gw.url}/send-sms`, OTP_BODY);
      expect(res.status).toBe(502);
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe("provider_rejected");
      expect(body.error.message).toContain(`redirect (${status})`);
      expect(fake.received).toHaveLength(1);
      expect(elsewhere.received).toHaveLength(0);
      expect(elsewhere.connections).toBe(0);
    } finally {
      await elsewhere.close();
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
      provider: (_logger, transport) => createTwilioProvider(twilioConfig(fake.url, overrides as never), { transport }),
      // TWILIO_USE_SENDER_ID reaches the send as the single route's use_sender_id (config.ts).
      routes: singleRoute("twilio", "useSenderId" in overrides && overrides.useSenderId),
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

/**
 * A send that waits for a pooled connection must not be written when the connection comes too late to finish
 * before the deadline (issue 8, item 2). The pool has one connection; the first send holds it at the fake until
 * the test releases it. The provider's clock is the real one plus a skew the test sets once the second send has
 * passed its own start check: then, when the connection frees up, the second send has "no time left", without
 * depending on how fast this machine is.
 */
describe("a send queued for a pooled connection", () => {
  let fake: FakeTwilio;
  beforeAll(async () => {
    fake = await startFakeTwilio();
  });
  afterAll(() => fake.close());

  it("is not written when the connection comes with less than MIN_ATTEMPT_MS left: 504 provider_timeout, one SMS", async () => {
    let skew = 0;
    let clockReads = 0;
    const now = () => {
      clockReads++;
      return Date.now() + skew;
    };
    const gw = await startTestGateway({
      provider: (_logger, transport) => createTwilioProvider(twilioConfig(fake.url), { transport, now }),
      transport: { maxSockets: 1, now },
      sendTimeoutMs: 8000,
    });
    try {
      // Warm: the SDK loaded and the one pooled connection open.
      expect((await post(`${gw.url}/send-sms`, OTP_BODY)).status).toBe(200);
      fake.reset();
      fake.enqueue({ kind: "hold" });
      const first = post(`${gw.url}/send-sms`, OTP_BODY);
      await until(() => fake.received.length === 1, "the first send to reach the fake");
      const readsBefore = clockReads;
      const second = post(`${gw.url}/send-sms`, OTP_BODY);
      await until(() => clockReads > readsBefore, "the second send to pass its start check");
      skew = 8000 - MIN_ATTEMPT_MS; // from now on the deadline is less than MIN_ATTEMPT_MS away
      fake.release();
      expect((await first).status).toBe(200);
      const res = await second;
      expect(res.status).toBe(504);
      expect(await errorCode(res)).toBe("provider_timeout");
      expect(fake.received.map((r) => r.answeredWith)).toEqual(["held"]);
    } finally {
      await gw.close();
    }
  });
});

describe("at the deadline, the answer says whether the SMS may have gone out", () => {
  it("written and unanswered → 504 outcome_unknown; still waiting for a pooled connection → 504 provider_timeout", async () => {
    const fake = await startFakeTwilio();
    const gw = await startTestGateway({
      transport: { maxSockets: 1 },
      twilioBaseUrl: fake.url,
      sendTimeoutMs: DEADLINE_MS,
    });
    try {
      expect((await post(`${gw.url}/send-sms`, OTP_BODY)).status).toBe(200);
      fake.reset();
      fake.always({ kind: "hold" });
      // Whichever arrives first takes the one connection; the other waits for it until the deadline.
      const answers = await Promise.all([post(`${gw.url}/send-sms`, OTP_BODY), post(`${gw.url}/send-sms`, OTP_BODY)]);
      const seen = await Promise.all(answers.map(async (res) => `${res.status} ${await errorCode(res)}`));
      expect(seen.sort()).toEqual(["504 outcome_unknown", "504 provider_timeout"]);
      expect(fake.received).toHaveLength(1);
    } finally {
      await gw.close();
      await fake.close();
    }
  });
});

async function until(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
