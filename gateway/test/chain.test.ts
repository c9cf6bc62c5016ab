import { describe, expect, it } from "vitest";
import { runChain, type ChainStep } from "../src/delivery/chain.ts";
import type { RouteEntry } from "../src/delivery/routes.ts";
import { parseE164 } from "../src/phone.ts";
import type { AttemptContext, SmsProvider, ProviderName, SendOutcome } from "../src/providers/provider.ts";

/**
 * The failover rules on fake providers and an injected clock: every decision visible, no sockets, no timers.
 * (The same rules against the real providers and loopback fakes, counting requests per fake: failover.test.ts.)
 */

const START = 1_000_000;
const DEADLINE_MS = 2480;
const MIN_ATTEMPT_MS = 150;

interface Script {
  outcome: SendOutcome;
  /** How long the attempt takes on the fake clock. */
  takesMs?: number;
}

function harness(scripts: Partial<Record<ProviderName, Script>>, order: ProviderName[], failoverOnUnknown = false) {
  let clock = START;
  const calls: { provider: ProviderName; ctx: AttemptContext; at: number }[] = [];
  const controller = new AbortController();
  const steps: ChainStep[] = order.map((name, i) => {
    const provider: SmsProvider = {
      name,
      async attempt(_sms, ctx) {
        calls.push({ provider: name, ctx, at: clock });
        const script = scripts[name]!;
        clock += script.takesMs ?? 100;
        if (clock >= ctx.deadline) controller.abort();
        return script.outcome;
      },
    };
    const entry: RouteEntry = { provider: name, useSenderId: false, from: `+1415555010${i}` };
    return { provider, entry };
  });
  const run = () =>
    runChain(
      steps,
      { to: parseE164("+14155552671")!, body: "Your code is 123456", senderId: undefined },
      { signal: controller.signal, deadline: START + DEADLINE_MS },
      { now: () => clock, failoverOnUnknown, minAttemptMs: MIN_ATTEMPT_MS },
    );
  return { run, calls, count: (name: ProviderName) => calls.filter((c) => c.provider === name).length };
}

const sent = (id: string): Script => ({ outcome: { kind: "sent", id } });
const rejected = (code = "21606", extra: Partial<SendOutcome> = {}): Script => ({
  outcome: { kind: "provider_rejected", code, reason: "ours", ...extra } as SendOutcome,
});
const unknown: Script = { outcome: { kind: "unknown", code: "500", reason: "5xx" } };
const destination: Script = { outcome: { kind: "destination_rejected", code: "21610", reason: "opted out" } };

describe("the attempt chain", () => {
  it.each([
    {
      name: "provider rejected → the next entry sends",
      scripts: { twilio: rejected(), telnyx: sent("T-1") },
      failover: false,
      verdict: { kind: "sent", provider: "telnyx", id: "T-1" },
      calls: { twilio: 1, telnyx: 1, smc: 0 },
    },
    {
      name: "unknown → stop: no second send",
      scripts: { twilio: unknown, telnyx: sent("T-1") },
      failover: false,
      verdict: { kind: "unknown", provider: "twilio", code: "500", deadline: false },
      calls: { twilio: 1, telnyx: 0, smc: 0 },
    },
    {
      name: "unknown with FAILOVER_ON_UNKNOWN → the next entry sends",
      scripts: { twilio: unknown, telnyx: sent("T-1") },
      failover: true,
      verdict: { kind: "sent", provider: "telnyx", id: "T-1" },
      calls: { twilio: 1, telnyx: 1, smc: 0 },
    },
    {
      name: "unknown with FAILOVER_ON_UNKNOWN, then every other entry rejects → still unknown",
      scripts: { twilio: unknown, telnyx: rejected("40305"), smc: rejected("400") },
      failover: true,
      verdict: { kind: "unknown", provider: "twilio", code: "500", deadline: false },
      calls: { twilio: 1, telnyx: 1, smc: 1 },
    },
    {
      name: "destination rejected → stop, even with FAILOVER_ON_UNKNOWN",
      scripts: { twilio: destination, telnyx: sent("T-1") },
      failover: true,
      verdict: { kind: "destination_rejected", provider: "twilio", code: "21610" },
      calls: { twilio: 1, telnyx: 0, smc: 0 },
    },
    {
      name: "every entry rejected → rejected, not throttled",
      scripts: { twilio: rejected(), telnyx: rejected("40305"), smc: rejected("400") },
      failover: false,
      verdict: { kind: "rejected", provider: "smc", code: "400", throttled: false },
      calls: { twilio: 1, telnyx: 1, smc: 1 },
    },
    {
      name: "every entry rejected, the last one throttling → rejected, throttled",
      scripts: { twilio: rejected(), telnyx: rejected(), smc: rejected("50100", { throttled: true, retryAfterMs: 5000 }) },
      failover: false,
      verdict: { kind: "rejected", provider: "smc", code: "50100", throttled: true, retryAfterMs: 5000 },
      calls: { twilio: 1, telnyx: 1, smc: 1 },
    },
    {
      name: "a throttled entry followed by one that rejects otherwise → not throttled",
      scripts: { twilio: rejected("20429", { throttled: true }), telnyx: rejected("40305"), smc: rejected("400") },
      failover: false,
      verdict: { kind: "rejected", provider: "smc", throttled: false },
      calls: { twilio: 1, telnyx: 1, smc: 1 },
    },
    {
      name: "deadline reached mid-chain → timeout, no attempt started late",
      scripts: { twilio: { ...rejected(), takesMs: DEADLINE_MS - MIN_ATTEMPT_MS + 1 }, telnyx: sent("T-1") },
      failover: false,
      verdict: { kind: "timeout" },
      calls: { twilio: 1, telnyx: 0, smc: 0 },
    },
    {
      name: "an attempt cut off by the deadline after writing → unknown at the deadline",
      scripts: { twilio: { ...unknown, takesMs: DEADLINE_MS }, telnyx: sent("T-1") },
      failover: true,
      verdict: { kind: "unknown", provider: "twilio", deadline: true },
      calls: { twilio: 1, telnyx: 0, smc: 0 },
    },
    {
      name: "the first entry could not start in its share → the next one tries",
      scripts: { twilio: rejected("not_started"), telnyx: sent("T-1") },
      failover: false,
      verdict: { kind: "sent", provider: "telnyx", id: "T-1" },
      calls: { twilio: 1, telnyx: 1, smc: 0 },
    },
    {
      name: "the last entry could not start in time (a connection came too late) → timeout",
      scripts: { twilio: rejected(), telnyx: rejected(), smc: rejected("not_started") },
      failover: false,
      verdict: { kind: "timeout" },
      calls: { twilio: 1, telnyx: 1, smc: 1 },
    },
    {
      name: "the last entry rejected because the deadline passed before it wrote → timeout",
      scripts: { twilio: rejected(), telnyx: { ...rejected("not_written"), takesMs: DEADLINE_MS } },
      failover: false,
      verdict: { kind: "timeout" },
      calls: { twilio: 1, telnyx: 1, smc: 0 },
    },
  ])("$name", async ({ scripts, failover, verdict, calls }) => {
    const h = harness(scripts as Partial<Record<ProviderName, Script>>, ["twilio", "telnyx", "smc"], failover);
    const result = await h.run();
    expect(result.verdict).toMatchObject(verdict);
    expect({ twilio: h.count("twilio"), telnyx: h.count("telnyx"), smc: h.count("smc") }).toEqual(calls);
    expect(result.attempts.map((a) => a.provider)).toEqual(h.calls.map((c) => c.provider));
  });

  it("records every attempt with its class, latency and code", async () => {
    const h = harness({ twilio: { ...rejected(), takesMs: 120 }, telnyx: { ...sent("T-1"), takesMs: 80 } }, ["twilio", "telnyx"]);
    expect((await h.run()).attempts).toEqual([
      { provider: "twilio", outcome: "provider_rejected", latencyMs: 120, code: "21606" },
      { provider: "telnyx", outcome: "sent", latencyMs: 80 },
    ]);
  });

  it("gives each entry still to come an equal share of the time left to start requests in", async () => {
    const h = harness({ twilio: rejected(), telnyx: rejected(), smc: sent("S-1") }, ["twilio", "telnyx", "smc"]);
    await h.run();
    const deadline = START + DEADLINE_MS;
    expect(h.calls.map((c) => c.ctx.deadline)).toEqual([deadline, deadline, deadline]);
    expect(h.calls.map((c) => c.ctx.startBy - c.at)).toEqual([
      Math.floor(DEADLINE_MS / 3),
      Math.floor((DEADLINE_MS - 100) / 2),
      DEADLINE_MS - 200, // the last entry may use all that is left
    ]);
  });

  it("hands each attempt its own entry's sender", async () => {
    const h = harness({ twilio: rejected(), telnyx: sent("T-1") }, ["twilio", "telnyx"]);
    await h.run();
    expect(h.calls.map((c) => c.ctx.sender)).toEqual([{ from: "+14155550100" }, { from: "+14155550101" }]);
  });

  it("starts nothing when the deadline has already passed", async () => {
    const h = harness({ twilio: sent("SM-1") }, ["twilio"]);
    const controller = new AbortController();
    controller.abort();
    const result = await runChain(
      [{ provider: { name: "twilio", attempt: async () => (h.calls.push({} as never), sent("x").outcome) }, entry: { provider: "twilio", useSenderId: false } }],
      { to: parseE164("+14155552671")!, body: "x", senderId: undefined },
      { signal: controller.signal, deadline: START + DEADLINE_MS },
      { now: () => START, failoverOnUnknown: false, minAttemptMs: MIN_ATTEMPT_MS },
    );
    expect(result).toEqual({ verdict: { kind: "timeout", reason: "no time left to start a provider attempt" }, attempts: [] });
    expect(h.calls).toHaveLength(0);
  });
});
