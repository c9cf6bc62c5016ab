/**
 * send.ts's look-up of an earlier unknown outcome, across providers (issue 11): which providers are asked, and how
 * their answers combine — found by any: the answer is that id; "absent" only when every provider that may have it
 * can look and says so; otherwise ON_UNKNOWN_REPEAT decides. Fake providers on the in-memory store.
 */
import { describe, expect, it } from "vitest";
import { parseRoutes } from "../src/delivery/routes.ts";
import { parseE164 } from "../src/phone.ts";
import { createDedupe } from "../src/protection/dedupe.ts";
import { createProtectionKeys } from "../src/protection/keys.ts";
import { createLimits } from "../src/protection/limits.ts";
import { createMemoryStore } from "../src/protection/memoryStore.ts";
import type { LookupAnswer, ProviderName, SendOutcome, SmsProvider } from "../src/providers/provider.ts";
import { createSender, LOOKUP_RESERVE_MS, recordOf, type SendReport } from "../src/send.ts";
import { NO_LIMITS } from "./protection/harness.ts";

const SMS = { to: parseE164("+14155552671")!, body: "Your code is 123456", senderId: undefined };

interface Fake extends SmsProvider {
  sends: number;
  asked: number;
}

function fake(name: ProviderName, outcomes: SendOutcome[], lookup?: LookupAnswer): Fake {
  const p: Fake = {
    name,
    sends: 0,
    asked: 0,
    async attempt() {
      p.sends++;
      return outcomes.shift() ?? { kind: "sent", id: `${name}-${p.sends}` };
    },
    ...(lookup !== undefined && {
      async lookup() {
        p.asked++;
        return lookup;
      },
    }),
  };
  return p;
}

function gateway(providers: Fake[], onUnknownRepeat: "send" | "suppress" = "send") {
  const parsed = parseRoutes(JSON.stringify({ "*": providers.map((p) => ({ provider: p.name })) }), { defaultUseSenderId: () => false });
  if (!parsed.ok) throw new Error(parsed.problems.join("; "));
  const store = createMemoryStore();
  const keys = createProtectionKeys("send-lookup-test-secret-0123456789abcdef");
  const send = createSender({
    table: parsed.table,
    providers: new Map(providers.map((p) => [p.name, p])),
    failoverOnUnknown: true,
    now: Date.now,
    protection: {
      dedupe: createDedupe({ store, keys, windowMs: 60_000, onUnknownRepeat }),
      limits: createLimits({ store, keys, settings: NO_LIMITS }),
    },
  });
  return (budgetMs = 2500): Promise<SendReport> => send(SMS, { signal: new AbortController().signal, deadline: Date.now() + budgetMs });
}

const unknown: SendOutcome = { kind: "unknown", code: "network", reason: "reset" };

describe("the look-up across providers", () => {
  it("an unknown at both providers (FAILOVER_ON_UNKNOWN) records both; the repeat asks both; one found: its id", async () => {
    const twilio = fake("twilio", [unknown], "absent");
    const telnyx = fake("telnyx", [unknown], { found: "telnyx-id-1" });
    const post = gateway([twilio, telnyx]);
    const first = await post();
    expect(recordOf(first)).toEqual({ kind: "unknown", provider: "twilio,telnyx" });
    expect(await post()).toMatchObject({ verdict: { kind: "sent", provider: "telnyx", id: "telnyx-id-1" }, deduplicated: "lookup" });
    expect([twilio.asked, telnyx.asked, twilio.sends + telnyx.sends]).toEqual([1, 1, 2]);
  });

  it("absent only when every provider that may have it says so: then it sends again", async () => {
    const twilio = fake("twilio", [unknown], "absent");
    const telnyx = fake("telnyx", [unknown], "absent");
    const post = gateway([twilio, telnyx], "suppress");
    await post();
    expect((await post()).verdict).toEqual({ kind: "sent", provider: "twilio", id: "twilio-2" });
  });

  it("one of them cannot look (no lookup, as Telnyx): cannot tell — ON_UNKNOWN_REPEAT=suppress sends nothing", async () => {
    const twilio = fake("twilio", [unknown], "absent");
    const telnyx = fake("telnyx", [unknown]);
    const post = gateway([twilio, telnyx], "suppress");
    await post();
    expect((await post()).verdict).toEqual({ kind: "unknown_repeat", provider: "twilio,telnyx" });
    expect(twilio.sends + telnyx.sends).toBe(2);
  });

  it(`with less than ${LOOKUP_RESERVE_MS} ms left no look-up starts (a send found necessary needs that time)`, async () => {
    const twilio = fake("twilio", [unknown], { found: "twilio-id" });
    const post = gateway([twilio], "suppress");
    await post();
    expect((await post(LOOKUP_RESERVE_MS - 50)).verdict).toMatchObject({ kind: "unknown_repeat" });
    expect(twilio.asked).toBe(0);
  });
});
