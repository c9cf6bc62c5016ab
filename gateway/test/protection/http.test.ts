/**
 * Protection through the whole gateway (issue 11's tests, over HTTP): the app, send.ts's dedupe → limits → route →
 * chain, the real `twilio` SDK and a fake Twilio counting what reaches it — on the in-memory store and on a real
 * redis-server, the same cases word for word. Two gateway processes sharing one Redis: twoProcesses.test.ts.
 */
import type { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { startFakeTwilio, type FakeTwilio } from "../../../scripts/emulators/twilio.ts";
import { startRedisServer } from "../../../scripts/redisServer.ts";
import type { LimitSettings } from "../../src/protection/settings.ts";
import { createMemoryStore } from "../../src/protection/memoryStore.ts";
import { createRedisStore, type RedisStore } from "../../src/protection/redisStore.ts";
import type { ProtectionStore } from "../../src/protection/store.ts";
import { OTP_BODY, post, startTestGateway, type TestGateway, type TestProtection } from "../support.ts";
import { captureLogs, describeWithRedis, until, useRedisServer } from "./support.ts";

interface Backend {
  name: "memory" | "redis";
  open(): Promise<ProtectionStore>;
  /** Ends every limit window now, as time passing would. */
  endWindows(): Promise<void>;
  reset(): Promise<void>;
}

interface Answer {
  status: number;
  retryAfter: string | null;
  body: Record<string, unknown>;
}

async function send(gw: TestGateway, body: Record<string, unknown> = OTP_BODY): Promise<Answer> {
  const res = await post(`${gw.url}/send-sms`, body);
  return { status: res.status, retryAfter: res.headers.get("retry-after"), body: (await res.json()) as Record<string, unknown> };
}

const sms = (phone_number: string, message = OTP_BODY.message) => ({ phone_number, sender_id: "", message });
const code = (n: number) => `Your Acme verification code is: ${String(n).padStart(6, "0")}`;

function sendLines(gw: TestGateway): Record<string, unknown>[] {
  return gw.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.event === "sms.send");
}

function behaviour(backend: Backend): void {
  let fake: FakeTwilio;
  let gateways: TestGateway[] = [];
  let stores: ProtectionStore[] = [];

  beforeAll(async () => {
    fake = await startFakeTwilio();
  });
  afterAll(() => fake.close());
  beforeEach(async () => {
    fake.reset();
    await backend.reset();
  });
  afterEach(async () => {
    await Promise.all(gateways.map((g) => g.close()));
    await Promise.all(stores.map((s) => s.close()));
    [gateways, stores] = [[], []];
  });

  async function gateway(protection: Omit<TestProtection, "store"> = {}): Promise<TestGateway> {
    const store = await backend.open();
    stores.push(store);
    const gw = await startTestGateway({ twilioBaseUrl: fake.url, protection: { ...protection, store } });
    gateways.push(gw);
    return gw;
  }

  describe("duplicate suppression", () => {
    it("a retry storm (the same request ×3 in the window): one send, three 200s with one id", async () => {
      const gw = await gateway();
      const answers = [await send(gw), await send(gw), await send(gw)];
      expect(fake.received).toHaveLength(1);
      expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
      const id = fake.created[0]!.sid;
      expect(answers.map((a) => a.body)).toEqual([
        { status: "sent", provider: "twilio", id },
        { status: "sent", provider: "twilio", id, deduplicated: true },
        { status: "sent", provider: "twilio", id, deduplicated: true },
      ]);
      expect(sendLines(gw).map((l) => [l.outcome, l.dedupe])).toEqual([["sent", undefined], ["deduplicated", "record"], ["deduplicated", "record"]]);
    });

    it("50 concurrent duplicates: one send, 50 answers with its id (49 of them deduplicated)", async () => {
      const gw = await gateway();
      fake.enqueue({ kind: "slow", ms: 150 }); // all 50 arrive while the first is in flight
      const answers = await Promise.all(Array.from({ length: 50 }, () => send(gw)));
      expect(fake.received).toHaveLength(1);
      const id = fake.created[0]!.sid;
      expect(new Set(answers.map((a) => a.status))).toEqual(new Set([200]));
      expect(new Set(answers.map((a) => a.body.id))).toEqual(new Set([id]));
      expect(answers.filter((a) => a.body.deduplicated === true)).toHaveLength(49);
    });

    it("another text or another number is another SMS", async () => {
      const gw = await gateway();
      await send(gw);
      await send(gw, sms(OTP_BODY.phone_number, code(1)));
      await send(gw, sms("+14155552672"));
      expect(fake.received).toHaveLength(3);
    });
  });

  describe("limits", () => {
    const limit = (l: Partial<LimitSettings>) => ({ limits: l });
    const three = { points: 3, durationS: 600 };
    // Each request is a new SMS (another text), so only the limit under test can refuse it.
    it.each<[string, TestProtection, (i: number) => Record<string, unknown>]>([
      ["per_number", limit({ perNumber: three }), (i) => sms("+14155552671", code(i))],
      ["per_prefix", limit({ perPrefix: three }), (i) => sms(`+1415555267${i}`)], // the same number but its last 3 digits
      ["per_country", limit({ perCountry: three }), (i) => sms(`+1${["415", "212", "312", "646"][i]}5552671`)],
      ["global", limit({ global: three }), (i) => sms(["+14155552671", "+442079460958", "+33142685300", "+4930901820"][i]!)],
    ])("%s at its edge: the 3rd is sent, the 4th is 429 with Retry-After and reaches no provider", async (name, protection, request) => {
      const gw = await gateway(protection);
      const answers = [];
      for (let i = 0; i < 4; i++) answers.push(await send(gw, request(i)));
      expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 429]);
      expect(fake.received).toHaveLength(3);
      const refused = answers[3]!;
      expect(refused.body).toEqual({ error: { code: "rate_limited", message: expect.stringMatching(/retry after \d+ s; the SMS was not sent/) } });
      expect(Number(refused.retryAfter)).toBeGreaterThanOrEqual(590);
      expect(Number(refused.retryAfter)).toBeLessThanOrEqual(600);
      const line = sendLines(gw).at(-1)!;
      expect(line).toMatchObject({ outcome: "rate_limited", limit: name, attempts: [], destination: expect.stringMatching(/^\+\d+\*+\d\d$/) });
      expect(gw.logs.join("\n")).not.toContain(String(request(3).phone_number));
    });

    it("a country outside ALLOWED_COUNTRIES: 403 country_not_allowed, nothing sent, the limit named in the log", async () => {
      const gw = await gateway({ limits: { allowedCountries: new Set(["US", "CA"]) } });
      expect((await send(gw, sms("+14165550123"))).status).toBe(200); // Toronto: CA
      const refused = await send(gw, sms("+442079460958"));
      expect(refused).toMatchObject({ status: 403, retryAfter: null, body: { error: { code: "country_not_allowed" } } });
      expect(String((refused.body.error as { message: string }).message)).toMatch(/GB is not in ALLOWED_COUNTRIES/);
      expect(fake.received.map((r) => r.to)).toEqual(["+14165550123"]);
      expect(sendLines(gw).at(-1)).toMatchObject({ outcome: "country_not_allowed", limit: "allowed_countries", country: "GB", attempts: [] });
    });

    it("deduplicated repeats do not count: 2 per number allows two SMS however often each is repeated", async () => {
      const gw = await gateway({ limits: { perNumber: { points: 2, durationS: 600 } } });
      for (let i = 0; i < 3; i++) expect((await send(gw, sms("+14155552671", code(1)))).status).toBe(200);
      expect((await send(gw, sms("+14155552671", code(2)))).status).toBe(200);
      expect((await send(gw, sms("+14155552671", code(3)))).status).toBe(429);
      expect(fake.received).toHaveLength(2);
    });

    it("a refused request leaves no dedupe record: once the window ends, the same request is sent", async () => {
      const gw = await gateway({ limits: { perNumber: { points: 1, durationS: 600 } } });
      expect((await send(gw, sms("+14155552671", code(1)))).status).toBe(200);
      expect((await send(gw, sms("+14155552671", code(2)))).status).toBe(429);
      await backend.endWindows();
      expect((await send(gw, sms("+14155552671", code(2)))).status).toBe(200);
      expect(fake.received.map((r) => r.body)).toEqual([code(1), code(2)]);
    });
  });

  it(`/health: 200, and the store's state in the body (${backend.name === "memory" ? "local" : "shared"})`, async () => {
    const gw = await gateway();
    const res = await fetch(`${gw.url}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok", state: backend.name === "memory" ? "local" : "shared" });
  });
}

describe("protection over HTTP, in-memory store", () => {
  afterEach(() => vi.useRealTimers());
  behaviour({
    name: "memory",
    open: async () => createMemoryStore(),
    // rate-limiter-flexible's memory limiter reads Date.now() itself (MemoryStorage.incrby): it takes no clock, so
    // the test moves the Date it reads — only Date; timers and the network stay real.
    async endWindows() {
      vi.useFakeTimers({ toFake: ["Date"], now: Date.now() });
      vi.setSystemTime(Date.now() + 601_000);
    },
    async reset() {},
  });
});

describeWithRedis("protection over HTTP, Redis store (a real redis-server)", () => {
  const redis = useRedisServer();
  const admin = (): Redis => redis.admin();
  behaviour({
    name: "redis",
    async open() {
      const store = await createRedisStore({ url: redis.server().url, logger: captureLogs().logger });
      await store.whenShared();
      return store;
    },
    // A window is a counter key's TTL on Redis's own clock (rate-limiter-flexible: SET … PX): its end is the key
    // expiring, so the test expires the counters instead of waiting ten minutes.
    async endWindows() {
      const counters = await admin().keys("mosaic-sms:rl:*");
      expect(counters.length).toBeGreaterThan(0);
      await Promise.all(counters.map((k) => admin().pexpire(k, 1)));
      for (const started = Date.now(); (await admin().exists(...counters)) > 0; ) {
        if (Date.now() - started > 2000) throw new Error("the counters did not expire");
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    },
    async reset() {
      await admin().flushall();
    },
  });
});

describeWithRedis("Redis stopped mid-run, through HTTP", () => {
  it("requests are still answered, /health says degraded (still 200), and shared again once Redis is back", async () => {
    const [fake, redis] = await Promise.all([startFakeTwilio(), startRedisServer()]);
    const { logger, lines } = captureLogs();
    let store: RedisStore | undefined;
    let gw: TestGateway | undefined;
    const health = async () => {
      const res = await fetch(`${gw!.url}/health`);
      return { status: res.status, body: await res.json() };
    };
    try {
      store = await createRedisStore({ url: redis.url, logger });
      gw = await startTestGateway({ twilioBaseUrl: fake.url, protection: { store } });
      expect((await send(gw, sms("+14155552671", code(1)))).status).toBe(200);
      expect(await health()).toEqual({ status: 200, body: { status: "ok", state: "shared" } });

      await redis.stop();
      await until(() => store!.state === "degraded", "the store to notice Redis is gone");
      const sent = await send(gw, sms("+14155552671", code(2)));
      expect(sent.status).toBe(200);
      // Per instance while degraded: the repeat is still recognised on this instance.
      expect((await send(gw, sms("+14155552671", code(2)))).body).toEqual({ ...sent.body, deduplicated: true });
      expect(await health()).toEqual({ status: 200, body: { status: "ok", state: "degraded" } });

      await redis.restart();
      await store.whenShared();
      expect(await health()).toEqual({ status: 200, body: { status: "ok", state: "shared" } });
      expect((await send(gw, sms("+14155552671", code(3)))).status).toBe(200);
      expect(fake.received).toHaveLength(3);
      // Logged once per change, not once per request.
      expect(lines.filter((l) => "protectionState" in l).map((l) => l.protectionState)).toEqual(["shared", "degraded", "shared"]);
    } finally {
      await gw?.close();
      await store?.close();
      await redis.stop();
      await fake.close();
    }
  });
});
