import { describe, expect, it } from "vitest";
import { GatewayError } from "../src/errors.ts";
import { parseE164 } from "../src/phone.ts";
import { createTwilioProvider } from "../src/providers/twilio/index.ts";
import { twilioConfig } from "./support.ts";

type Answer = "429" | "500" | "ok";

/**
 * The retry policy on an injected clock and sleep, with a scripted stand-in for the SDK factory:
 * no sockets, no real timers, every decision visible.
 */
function harness(answers: Answer[], deadlineMs: number) {
  let clock = 1_000_000;
  const sleeps: number[] = [];
  let calls = 0;
  const provider = createTwilioProvider(twilioConfig("http://127.0.0.1:9"), {
    maxSockets: 1,
    now: () => clock,
    sleep: async (ms) => {
      sleeps.push(ms);
      clock += ms;
    },
    loadSdk: async () => () => ({
      async create() {
        const answer = answers[Math.min(calls++, answers.length - 1)];
        clock += 50; // each attempt takes 50 ms of Twilio's time
        if (answer === "429") throw Object.assign(new Error("429"), { status: 429, code: 20429 });
        if (answer === "500") throw Object.assign(new Error("500"), { status: 500, code: 20500 });
        return { sid: "SM-ok" };
      },
    }),
  });
  const send = () =>
    provider.send(
      { to: parseE164("+14155552671")!, body: "code 1", senderId: undefined },
      { signal: new AbortController().signal, deadline: clock + deadlineMs },
    );
  return { send, sleeps, calls: () => calls };
}

async function failure(p: Promise<unknown>): Promise<GatewayError> {
  try {
    await p;
  } catch (err) {
    return err as GatewayError;
  }
  throw new Error("expected a failure");
}

describe("Twilio 429 retries", () => {
  it("retries a 429 and succeeds", async () => {
    const h = harness(["429", "429", "ok"], 2500);
    expect(await h.send()).toEqual({ id: "SM-ok" });
    expect(h.calls()).toBe(3);
    expect(h.sleeps).toHaveLength(2);
  });

  it("backs off exponentially (with jitter under the doubling cap)", async () => {
    const h = harness(["429", "429", "429", "429", "ok"], 10_000);
    await h.send();
    h.sleeps.forEach((ms, i) => expect(ms).toBeLessThanOrEqual(100 * 2 ** i));
  });

  it("stops retrying when the next attempt would not fit before the deadline → 503", async () => {
    const h = harness(["429"], 600);
    const err = await failure(h.send());
    expect(err.status).toBe(503);
    expect(h.calls()).toBeGreaterThan(1);
    const spent = h.sleeps.reduce((a, b) => a + b, 0) + 50 * h.calls();
    expect(spent).toBeLessThan(600);
  });

  it("never retries a 500: one call, 502", async () => {
    const h = harness(["500", "ok"], 2500);
    const err = await failure(h.send());
    expect(err.status).toBe(502);
    expect(h.calls()).toBe(1);
    expect(h.sleeps).toHaveLength(0);
  });
});
