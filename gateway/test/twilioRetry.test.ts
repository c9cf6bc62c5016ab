import { describe, expect, it } from "vitest";
import { parseE164 } from "../src/phone.ts";
import { MAX_REQUESTS, MIN_ATTEMPT_MS } from "../src/providers/retry.ts";
import { createHttpTransport } from "../src/providers/transport.ts";
import type { TwilioTransport } from "../src/providers/twilio/httpClient.ts";
import { createTwilioProvider } from "../src/providers/twilio/index.ts";
import { twilioConfig } from "./support.ts";

interface Answer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

const ok = (sid: unknown = `SM${"ab".repeat(16)}`): Answer => ({ status: 201, body: { sid, status: "queued" } });
const tooMany = (retryAfter?: string): Answer => ({
  status: 429,
  body: { code: 20429, message: "Too Many Requests" },
  ...(retryAfter === undefined ? {} : { headers: { "retry-after": retryAfter } }),
});
const serverError = (code = 20500, status = 500): Answer => ({ status, body: { code, message: "error" } });

/**
 * The real `twilio` SDK and the provider's retry policy over a scripted transport, on an injected clock and sleep:
 * no sockets, no real timers, every decision visible. Each answer takes 50 ms of Twilio's time.
 */
function harness(answers: Answer[], deadlineMs: number, startByMs = deadlineMs) {
  let clock = 1_000_000;
  const sleeps: number[] = [];
  let calls = 0;
  const transport: TwilioTransport = {
    bind() {
      let lastHeaders: Record<string, string> | undefined;
      let written = false;
      return {
        async request() {
          const answer = answers[Math.min(calls++, answers.length - 1)]!;
          written = true;
          clock += 50;
          lastHeaders = answer.headers ?? {};
          return { statusCode: answer.status, body: JSON.stringify(answer.body ?? {}), headers: lastHeaders };
        },
        get lastHeaders() {
          return lastHeaders;
        },
        get written() {
          return written;
        },
      };
    },
  };
  const provider = createTwilioProvider(twilioConfig("http://127.0.0.1:9"), {
    transport: createHttpTransport({ maxSockets: 1 }), // unused: the SDK talks to the scripted client below
    sdkTransport: transport,
    now: () => clock,
    sleep: async (ms) => {
      sleeps.push(ms);
      clock += ms;
    },
  });
  const send = () => {
    const deadline = clock + deadlineMs;
    return provider.attempt(
      { to: parseE164("+14155552671")!, body: "code 1", senderId: undefined },
      { signal: new AbortController().signal, deadline, startBy: clock + startByMs, sender: {} },
    );
  };
  return { send, sleeps, calls: () => calls };
}

describe("Twilio 429 retries", () => {
  it("retries a 429 and succeeds", async () => {
    const h = harness([tooMany(), tooMany(), ok()], 2500);
    expect(await h.send()).toEqual({ kind: "sent", id: `SM${"ab".repeat(16)}` });
    expect(h.calls()).toBe(3);
    expect(h.sleeps).toHaveLength(2);
  });

  it("backs off exponentially (with jitter under the doubling cap)", async () => {
    const h = harness([tooMany(), tooMany(), ok()], 10_000);
    await h.send();
    h.sleeps.forEach((ms, i) => expect(ms).toBeLessThanOrEqual(100 * 2 ** i));
  });

  it(`stops after ${MAX_REQUESTS} requests however much time is left → throttled`, async () => {
    const h = harness([tooMany()], 60_000);
    expect(await h.send()).toMatchObject({ kind: "provider_rejected", throttled: true });
    expect(h.calls()).toBe(MAX_REQUESTS);
  });

  it("a Retry-After: 0 is not a hot loop: a minimum backoff and at most MAX_REQUESTS calls", async () => {
    const h = harness([tooMany("0")], 2500);
    expect(await h.send()).toMatchObject({ kind: "provider_rejected", throttled: true });
    expect(h.calls()).toBe(MAX_REQUESTS);
    expect(h.sleeps).toHaveLength(MAX_REQUESTS - 1);
    for (const ms of h.sleeps) expect(ms).toBeGreaterThanOrEqual(50);
  });

  it("stops retrying when the next request would not fit before the deadline", async () => {
    const h = harness([tooMany("0.3")], 600);
    expect(await h.send()).toMatchObject({ kind: "provider_rejected", throttled: true, retryAfterMs: 300 });
    expect(h.calls()).toBeLessThan(MAX_REQUESTS);
    const spent = h.sleeps.reduce((a, b) => a + b, 0) + 50 * h.calls();
    expect(spent).toBeLessThan(600);
  });

  it("with another provider behind it, stops retrying at its share of the time (startBy), not the deadline", async () => {
    const h = harness([tooMany("0.2")], 2500, 300);
    expect(await h.send()).toMatchObject({ kind: "provider_rejected", throttled: true });
    // 50 ms for the first answer, then a 200 ms wait would end at 250 ≤ 300: one retry; a second would not fit.
    expect(h.calls()).toBe(2);
    expect(h.sleeps).toEqual([200]);
  });

  it("never retries a 500: one call, unknown", async () => {
    const h = harness([serverError(), ok()], 2500);
    expect(await h.send()).toMatchObject({ kind: "unknown", code: "20500" });
    expect(h.calls()).toBe(1);
    expect(h.sleeps).toHaveLength(0);
  });

  it("never retries a 503 whose body says 20429: only an HTTP 429 promises nothing was processed", async () => {
    const h = harness([serverError(20429, 503), ok()], 2500);
    expect(await h.send()).toMatchObject({ kind: "unknown", code: "20429" });
    expect(h.calls()).toBe(1);
  });
});

describe("Twilio answers the gateway cannot trust", () => {
  it.each([
    ["no sid", { status: 201, body: { status: "queued" } }],
    ["a null sid", ok(null)],
    ["an empty sid", ok("")],
    ["a sid that is not a Message SID", ok("SM123")],
    ["a numeric sid", ok(12345)],
  ])("a 201 with %s → unknown, not sent without an id", async (_label, answer) => {
    const h = harness([answer], 2500);
    expect(await h.send()).toMatchObject({ kind: "unknown", code: "invalid_response" });
    expect(h.calls()).toBe(1);
  });
});

describe("no request starts that cannot finish before the deadline", () => {
  it(`with less than MIN_ATTEMPT_MS (${MIN_ATTEMPT_MS} ms) left, nothing is written: certainly not sent`, async () => {
    const h = harness([ok()], MIN_ATTEMPT_MS - 1);
    expect(await h.send()).toMatchObject({ kind: "provider_rejected", code: "not_started" });
    expect(h.calls()).toBe(0);
  });
});
