import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { STALE_AFTER_MS } from "../../src/protection/dedupe.ts";
import type { ProtectionStore } from "../../src/protection/store.ts";
import { destination, FakeProvider, idOf, instance, OTP, SEND_TIMEOUT_MS, type Answer, type LookupFn } from "./harness.ts";
import { deferred, describeWithRedis, FakeClock, memoryBackend, redisBackend, until, useRedisServer, type Backend } from "./support.ts";

/**
 * The same behaviour, word for word, on the in-memory store and on Redis (issue 11: "the same behaviour suite
 * runs against both stores"). "Two instances" are two dedupe/limits pairs: on Redis each has its own store and
 * connection, as two gateway processes would; in memory they share one store (what one process can share).
 */
function behaviour(backend: Backend): void {
  let clock: FakeClock;
  let provider: FakeProvider;
  let stores: ProtectionStore[];

  beforeEach(async () => {
    await backend.reset();
    clock = new FakeClock();
    provider = new FakeProvider();
    stores = [];
  });
  afterEach(async () => {
    provider.release();
    await Promise.all(stores.map((s) => s.close()));
  });

  async function open(): Promise<ProtectionStore> {
    const store = await backend.open(clock);
    stores.push(store);
    return store;
  }
  async function twoInstances(options: Parameters<typeof instance>[3] = {}) {
    const first = await open();
    const second = backend.name === "redis" ? await open() : first;
    return [instance(first, provider, clock, options), instance(second, provider, clock, options)] as const;
  }

  describe("duplicate suppression", () => {
    it("a retry storm (the same SMS ×3 in the window) sends once; all three answer the first id", async () => {
      const gw = instance(await open(), provider, clock);
      const first = await gw.post(OTP);
      clock.advance(1000);
      const second = await gw.post(OTP);
      clock.advance(1000);
      const third = await gw.post(OTP);
      expect(provider.sends).toHaveLength(1);
      expect(first.kind).toBe("sent_now");
      expect(second).toEqual({ kind: "duplicate", provider: "fake", id: idOf(first), source: "record" });
      expect(third).toEqual(second);
    });

    it("a different text or a different number is another SMS", async () => {
      const gw = instance(await open(), provider, clock);
      await gw.post(OTP);
      await gw.post({ ...OTP, message: "Your Acme verification code is: 111111" });
      await gw.post({ ...OTP, to: destination("+14155552672") });
      expect(provider.sends).toHaveLength(3);
    });

    it("50 concurrent duplicates on one instance: one send, 50 answers with its id", async () => {
      const gw = instance(await open(), provider, clock);
      provider.hold();
      const results = Array.from({ length: 50 }, () => gw.post(OTP));
      await until(() => provider.sends.length === 1, "the first send to reach the provider");
      provider.release();
      const answers = await Promise.all(results);
      expect(provider.sends).toHaveLength(1);
      expect(answers.filter((a) => a.kind === "sent_now")).toHaveLength(1);
      expect(answers.filter((a) => a.kind === "joined")).toHaveLength(49);
      expect(new Set(answers.map(idOf))).toEqual(new Set([idOf(answers[0]!)]));
    });

    it("50 concurrent duplicates across two instances: one send, 50 answers with its id", async () => {
      const [a, b] = await twoInstances();
      provider.hold();
      const onA = Array.from({ length: 25 }, () => a.post(OTP));
      await until(() => provider.sends.length === 1, "instance A's send to reach the provider");
      const onB = Array.from({ length: 25 }, () => b.post(OTP));
      await until(() => clock.waiting === 1, "instance B to poll A's lock");
      provider.release();
      await Promise.all(onA);
      clock.advance(20);
      const answers = await Promise.all([...onA, ...onB]);
      expect(provider.sends).toHaveLength(1);
      expect(new Set(answers.map(idOf)).size).toBe(1);
      expect(idOf(answers[0]!)).toMatch(/^SM/);
      expect(answers.slice(25).every((r) => r.kind === "duplicate")).toBe(true);
    });

    it("a repeat on another instance while the first is in flight waits and gets its id", async () => {
      const [a, b] = await twoInstances();
      provider.hold();
      const first = a.post(OTP);
      await until(() => provider.sends.length === 1, "the first send to reach the provider");
      const repeat = b.post(OTP);
      await until(() => clock.waiting === 1, "the repeat to poll the lock");
      clock.advance(20); // a poll that still finds the lock
      await until(() => clock.waiting === 1, "the repeat to poll again");
      provider.release();
      const firstAnswer = await first;
      clock.advance(40);
      expect(await repeat).toEqual({ kind: "duplicate", provider: "fake", id: idOf(firstAnswer), source: "record" });
      expect(provider.sends).toHaveLength(1);
    });

    it("a repeat that waits past its own deadline answers still_in_flight and sends nothing", async () => {
      const [a, b] = await twoInstances();
      provider.hold();
      const first = a.post(OTP);
      await until(() => provider.sends.length === 1, "the first send to reach the provider");
      const repeat = b.post(OTP);
      for (let waited = 0; waited <= SEND_TIMEOUT_MS; waited += 200) {
        await until(() => clock.waiting === 1, "the repeat to poll");
        clock.advance(200);
      }
      expect(await repeat).toEqual({ kind: "still_in_flight" });
      provider.release();
      await first;
      expect(provider.sends).toHaveLength(1);
    });

    it("a repeat joining a send on its own instance stops waiting when its request is aborted", async () => {
      const gw = instance(await open(), provider, clock);
      provider.hold();
      const first = gw.post(OTP);
      await until(() => provider.sends.length === 1, "the first send to reach the provider");
      const abort = new AbortController();
      const repeat = gw.post(OTP, { signal: abort.signal });
      abort.abort();
      expect(await repeat).toEqual({ kind: "still_in_flight" });
      provider.release();
      expect((await first).kind).toBe("sent_now");
    });

    it.each(["destination_rejected", "provider_rejected"] as const)(
      "a certain rejection (%s) leaves no record: the next attempt sends",
      async (kind) => {
        const gw = instance(await open(), provider, clock);
        provider.outcomes.push({ kind });
        const first = await gw.post(OTP);
        const second = await gw.post(OTP);
        expect(first).toEqual({ kind: "sent_now", result: { kind } });
        expect(second.kind).toBe("sent_now");
        expect(provider.sends).toHaveLength(2);
      },
    );

    it("a repeat waiting on another instance whose send was rejected sends itself", async () => {
      const [a, b] = await twoInstances();
      provider.outcomes.push({ kind: "provider_rejected" });
      provider.hold();
      const first = a.post(OTP);
      await until(() => provider.sends.length === 1, "the first send to reach the provider");
      const repeat = b.post(OTP);
      await until(() => clock.waiting === 1, "the repeat to poll the lock");
      provider.release();
      expect((await first).kind).toBe("sent_now");
      clock.advance(20);
      const answer = await repeat;
      expect(answer.kind).toBe("sent_now");
      expect(provider.sends).toHaveLength(2);
    });

    it("a send that throws leaves no record, and the repeat sends", async () => {
      const gw = instance(await open(), provider, clock);
      const failing = gw.dedupe.run(
        { e164: OTP.to.e164, message: OTP.message, deadline: clock.now() + SEND_TIMEOUT_MS },
        async (): Promise<Answer> => {
          throw new Error("route table broken");
        },
        () => ({ kind: "none" }),
      );
      await expect(failing).rejects.toThrow("route table broken");
      expect((await gw.post(OTP)).kind).toBe("sent_now");
      expect(provider.sends).toHaveLength(1);
    });

    it("repeats that joined a send which threw get the same error, and leave no record", async () => {
      const gw = instance(await open(), provider, clock);
      const gate = deferred<void>();
      const request = { e164: OTP.to.e164, message: OTP.message, deadline: clock.now() + SEND_TIMEOUT_MS };
      const throwing = async (): Promise<Answer> => {
        await gate.promise;
        throw new Error("limits store broke");
      };
      const first = gw.dedupe.run(request, throwing, () => ({ kind: "none" }));
      const joined = gw.dedupe.run(request, throwing, () => ({ kind: "none" }));
      gate.resolve();
      await expect(first).rejects.toThrow("limits store broke");
      await expect(joined).rejects.toThrow("limits store broke");
      expect((await gw.post(OTP)).kind).toBe("sent_now");
    });

    it("with DEDUPE_WINDOW_S=0 every request sends", async () => {
      const gw = instance(await open(), provider, clock, { dedupe: { windowMs: 0 } });
      await gw.post(OTP);
      await gw.post(OTP);
      expect(provider.sends).toHaveLength(2);
    });
  });

  describe("unknown outcomes are resolved by asking the provider", () => {
    async function afterUnknown(options: Parameters<typeof instance>[3] = {}) {
      const gw = instance(await open(), provider, clock, options);
      provider.outcomes.push({ kind: "unknown" });
      const first = await gw.post(OTP);
      expect(first).toEqual({ kind: "sent_now", result: { kind: "unknown" } });
      const startedAt = clock.now();
      clock.advance(3000);
      return { gw, startedAt };
    }

    it("found: answers that id, sends nothing, and later repeats need no look-up", async () => {
      const { gw, startedAt } = await afterUnknown();
      const asked: { provider: string | undefined; since: number }[] = [];
      const lookup: LookupFn = async (earlier) => {
        asked.push(earlier);
        return { found: { provider: "fake", id: "SMfound" } };
      };
      expect(await gw.post(OTP, { lookup })).toEqual({ kind: "duplicate", provider: "fake", id: "SMfound", source: "lookup" });
      expect(await gw.post(OTP, { lookup })).toEqual({ kind: "duplicate", provider: "fake", id: "SMfound", source: "record" });
      expect(asked).toEqual([{ provider: "fake", since: startedAt }]);
      expect(provider.sends).toHaveLength(1);
    });

    it("absent: sends again", async () => {
      const { gw } = await afterUnknown({ dedupe: { onUnknownRepeat: "suppress" } });
      const answer = await gw.post(OTP, { lookup: async () => "absent" });
      expect(answer.kind).toBe("sent_now");
      expect(provider.sends).toHaveLength(2);
    });

    it("cannot tell, ON_UNKNOWN_REPEAT=send: sends again (a possible duplicate beats a lost OTP)", async () => {
      const { gw } = await afterUnknown();
      expect((await gw.post(OTP, { lookup: async () => "cannot_tell" })).kind).toBe("sent_now");
      expect(provider.sends).toHaveLength(2);
    });

    it("cannot tell, ON_UNKNOWN_REPEAT=suppress: sends nothing and says the outcome is still unknown", async () => {
      const { gw } = await afterUnknown({ dedupe: { onUnknownRepeat: "suppress" } });
      expect(await gw.post(OTP, { lookup: async () => "cannot_tell" })).toEqual({ kind: "unknown_suppressed", provider: "fake" });
      expect(await gw.post(OTP)).toEqual({ kind: "unknown_suppressed", provider: "fake" });
      expect(provider.sends).toHaveLength(1);
    });

    it("a look-up that throws counts as cannot tell", async () => {
      const { gw } = await afterUnknown({ dedupe: { onUnknownRepeat: "suppress" } });
      const lookup: LookupFn = async () => {
        throw new Error("provider API down");
      };
      expect((await gw.post(OTP, { lookup })).kind).toBe("unknown_suppressed");
    });

    it("the re-send after an unknown keeps the first attempt's time for the next look-up", async () => {
      const { gw, startedAt } = await afterUnknown();
      provider.outcomes.push({ kind: "unknown" });
      await gw.post(OTP, { lookup: async () => "absent" });
      clock.advance(1000);
      const asked: number[] = [];
      await gw.post(OTP, {
        lookup: async (earlier) => {
          asked.push(earlier.since);
          return "cannot_tell";
        },
      });
      expect(asked).toEqual([startedAt]);
    });

    it("repeats that joined a send ending unknown ask the provider (once), instead of answering unknown", async () => {
      const gw = instance(await open(), provider, clock);
      provider.outcomes.push({ kind: "unknown" });
      provider.hold();
      const first = gw.post(OTP);
      await until(() => provider.sends.length === 1, "the first send to reach the provider");
      let asked = 0;
      const lookup: LookupFn = async () => {
        asked++;
        return { found: { provider: "fake", id: "SMfoundAfterJoin" } };
      };
      const repeats = [gw.post(OTP, { lookup }), gw.post(OTP, { lookup })];
      provider.release();
      expect(await first).toEqual({ kind: "sent_now", result: { kind: "unknown" } });
      expect(await Promise.all(repeats)).toEqual([
        { kind: "duplicate", provider: "fake", id: "SMfoundAfterJoin", source: "lookup" },
        { kind: "duplicate", provider: "fake", id: "SMfoundAfterJoin", source: "lookup" },
      ]);
      expect(asked).toBe(1);
      expect(provider.sends).toHaveLength(1);
    });

    it("a re-send after an unknown that is then certainly refused puts the unknown back: the first may be out", async () => {
      const { gw, startedAt } = await afterUnknown({ dedupe: { onUnknownRepeat: "suppress" } });
      provider.outcomes.push({ kind: "provider_rejected" });
      expect((await gw.post(OTP, { lookup: async () => "absent" })).kind).toBe("sent_now");
      const asked: number[] = [];
      const lookup: LookupFn = async (earlier) => {
        asked.push(earlier.since);
        return "cannot_tell";
      };
      expect(await gw.post(OTP, { lookup })).toEqual({ kind: "unknown_suppressed", provider: "fake" });
      expect(asked).toEqual([startedAt]);
      expect(provider.sends).toHaveLength(2);
    });

    it("a lock whose holder died mid-send counts as unknown: the look-up decides", async () => {
      const [a, b] = await twoInstances();
      provider.hold(); // instance A never finishes: it "died" with the lock held
      const startedAt = clock.now();
      void a.post(OTP);
      await until(() => provider.sends.length === 1, "A's send to reach the provider");
      clock.advance(SEND_TIMEOUT_MS + STALE_AFTER_MS + 1);
      const asked: { provider: string | undefined; since: number }[] = [];
      const answer = await b.post(OTP, {
        lookup: async (earlier) => {
          asked.push(earlier);
          return { found: { provider: "fake", id: "SMfromDeadHolder" } };
        },
      });
      expect(answer).toEqual({ kind: "duplicate", provider: "fake", id: "SMfromDeadHolder", source: "lookup" });
      expect(asked).toEqual([{ provider: undefined, since: startedAt }]);
    });
  });

  describe("limits", () => {
    const edge = (limit: string, points: number) => ({ limit, points });

    it.each([
      { ...edge("per_number", 5), settings: { perNumber: { points: 5, durationS: 600 } }, same: () => OTP.to },
      {
        ...edge("per_prefix", 3),
        settings: { perPrefix: { points: 3, durationS: 600 } },
        same: (i: number) => destination(`+1415555200${i}`),
      },
      {
        ...edge("per_country", 4),
        settings: { perCountry: { points: 4, durationS: 60 } },
        same: (i: number) => destination(`+1212555${String(1000 + i * 37)}`),
      },
      {
        ...edge("global", 2),
        settings: { global: { points: 2, durationS: 3600 } },
        same: (i: number) => destination(`+4477009${String(1000 + i)}`, "GB", "44"),
      },
    ])("$limit at its edge: the Nth send allowed, the N+1th refused with Retry-After", async ({ limit, points, settings, same }) => {
      const gw = instance(await open(), provider, clock, {
        limits: { perNumber: undefined, perPrefix: undefined, perCountry: undefined, global: undefined, allowedCountries: undefined, ...settings },
      });
      for (let i = 0; i < points; i++) expect(await gw.limits.check(same(i))).toEqual({ kind: "allowed" });
      const refused = await gw.limits.check(same(points));
      const duration = Object.values(settings)[0]!.durationS;
      expect(refused).toMatchObject({ kind: "rate_limited", limit });
      const retryAfterS = (refused as { retryAfterS: number }).retryAfterS;
      expect(retryAfterS).toBeGreaterThan(duration - 5);
      expect(retryAfterS).toBeLessThanOrEqual(duration);
    });

    it("another number, range or country is counted apart", async () => {
      const gw = instance(await open(), provider, clock, {
        limits: { perNumber: { points: 1, durationS: 600 }, perPrefix: undefined, perCountry: { points: 2, durationS: 60 }, global: undefined, allowedCountries: undefined },
      });
      expect((await gw.limits.check(destination("+14155552671"))).kind).toBe("allowed");
      expect((await gw.limits.check(destination("+14155552672"))).kind).toBe("allowed");
      expect(await gw.limits.check(destination("+14155552673"))).toMatchObject({ kind: "rate_limited", limit: "per_country" });
      expect((await gw.limits.check(destination("+447700900123", "GB", "44"))).kind).toBe("allowed");
    });

    it("a send refused by one limit is given back to the others", async () => {
      const gw = instance(await open(), provider, clock, {
        limits: { perNumber: { points: 2, durationS: 600 }, perPrefix: { points: 3, durationS: 600 }, perCountry: undefined, global: undefined, allowedCountries: undefined },
      });
      const a = destination("+14155552671");
      expect((await gw.limits.check(a)).kind).toBe("allowed");
      expect((await gw.limits.check(a)).kind).toBe("allowed");
      expect(await gw.limits.check(a)).toMatchObject({ kind: "rate_limited", limit: "per_number" });
      // The refused third send did not use up the range: one more number in it still gets through.
      expect((await gw.limits.check(destination("+14155552672"))).kind).toBe("allowed");
      expect(await gw.limits.check(destination("+14155552673"))).toMatchObject({ kind: "rate_limited", limit: "per_prefix" });
    });

    it("ALLOWED_COUNTRIES refuses other countries (and numbers of no country) before counting anything", async () => {
      const gw = instance(await open(), provider, clock, {
        limits: { perNumber: { points: 1, durationS: 600 }, perPrefix: undefined, perCountry: undefined, global: undefined, allowedCountries: new Set(["US", "CA"]) },
      });
      expect(await gw.limits.check(destination("+447700900123", "GB", "44"))).toEqual({ kind: "country_not_allowed", country: "GB" });
      expect(await gw.limits.check(destination("+882345678901", null, "882"))).toEqual({ kind: "country_not_allowed", country: undefined });
      expect((await gw.limits.check(destination("+14165550123", "CA"))).kind).toBe("allowed");
      const gb = await gw.post({ ...OTP, to: destination("+447700900123", "GB", "44") });
      expect(gb).toEqual({ kind: "sent_now", result: { kind: "refused", verdict: { kind: "country_not_allowed", country: "GB" } } });
      expect(provider.sends).toHaveLength(0);
    });

    it("deduplicated repeats do not count; a refusal reaches no provider and leaves no record", async () => {
      const gw = instance(await open(), provider, clock, {
        limits: { perNumber: { points: 2, durationS: 600 }, perPrefix: undefined, perCountry: undefined, global: undefined, allowedCountries: undefined },
      });
      for (let i = 0; i < 5; i++) await gw.post(OTP); // one send, four repeats
      expect((await gw.post({ ...OTP, message: "code 222222" })).kind).toBe("sent_now");
      const refused = await gw.post({ ...OTP, message: "code 333333" });
      expect(refused).toMatchObject({ kind: "sent_now", result: { kind: "refused", verdict: { kind: "rate_limited", limit: "per_number" } } });
      expect(provider.sends).toHaveLength(2);
      const again = await gw.post({ ...OTP, message: "code 333333" });
      expect(again).toMatchObject({ kind: "sent_now", result: { kind: "refused" } }); // refused again, not "deduplicated"
    });

    it("the per-number limit is counted across instances", async () => {
      const [a, b] = await twoInstances({
        limits: { perNumber: { points: 5, durationS: 600 }, perPrefix: undefined, perCountry: undefined, global: undefined, allowedCountries: undefined },
      });
      for (let i = 0; i < 5; i++) expect((await (i % 2 ? b : a).limits.check(OTP.to)).kind).toBe("allowed");
      expect(await a.limits.check(OTP.to)).toMatchObject({ kind: "rate_limited", limit: "per_number" });
      expect(await b.limits.check(OTP.to)).toMatchObject({ kind: "rate_limited", limit: "per_number" });
    });
  });

  describe("what the store holds", () => {
    it("never a phone number, an OTP or a text in clear, and every key expires", async () => {
      const [a, b] = await twoInstances({
        limits: { perNumber: { points: 5, durationS: 600 }, perPrefix: { points: 30, durationS: 600 }, perCountry: { points: 100, durationS: 60 }, global: { points: 1000, durationS: 3600 }, allowedCountries: undefined },
      });
      provider.outcomes.push({ kind: "unknown" });
      await a.post(OTP);
      await b.post({ ...OTP, message: "Your Acme verification code is: 707070" });
      provider.hold();
      void a.post({ ...OTP, message: "Your Acme verification code is: 123987" }); // an in-flight lock
      await until(() => provider.sends.length === 3, "the third send to be in flight");
      const held = (await backend.dump(stores)).join("\n");
      expect(held.length).toBeGreaterThan(0);
      for (const secret of ["4155552671", "415555267", "5552671", "493817", "707070", "123987", "verification"]) {
        expect(held).not.toContain(secret);
      }
      const ttls = await backend.ttls(stores);
      for (const ttl of ttls) {
        expect(ttl).toBeGreaterThan(0); // -1 would be a key without expiry
        expect(ttl).toBeLessThanOrEqual(3600 * 1000);
      }
      if (backend.name === "redis") expect(ttls.length).toBeGreaterThanOrEqual(7);
    });

    it("a record expires with the window: after it the same SMS is sent again", async () => {
      const gw = instance(await open(), provider, clock, { dedupe: { windowMs: 60_000 } });
      await gw.post(OTP);
      if (backend.name === "redis") {
        // Redis expires by its own clock: check the record's TTL instead of waiting a minute.
        const ttls = await backend.ttls(stores);
        expect(ttls.every((t) => t > 55_000 && t <= 60_000)).toBe(true);
        return;
      }
      clock.advance(59_000);
      expect((await gw.post(OTP)).kind).toBe("duplicate");
      clock.advance(1001);
      expect((await gw.post(OTP)).kind).toBe("sent_now");
      expect(provider.sends).toHaveLength(2);
    });
  });
}

describe("protection on the in-memory store", () => behaviour(memoryBackend));

describeWithRedis("protection on Redis (a real redis-server)", () => {
  const redis = useRedisServer();
  behaviour(redisBackend(redis));
});
