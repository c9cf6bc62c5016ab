import { afterEach, describe, expect, it } from "vitest";
import { createRedisStore, type RedisStore } from "../../src/protection/redisStore.ts";
import { openStore, type ProtectionStore } from "../../src/protection/store.ts";
import { makeTestCertificates, onCi, opensslAvailability, startRedisServer, type RedisServer, type TestCertificates } from "../../../scripts/redisServer.ts";
import { FakeProvider, idOf, instance, OTP } from "./harness.ts";
import { captureLogs, describeWithRedis, FakeClock, until } from "./support.ts";

/**
 * The Redis store's own behaviour: what happens when Redis goes away, hangs or comes back, and how it connects
 * (password, TLS with the instance's CA). Each test starts its own redis-server, since most of them stop it.
 */
describeWithRedis("Redis store: connection, degraded mode, recovery", () => {
  let servers: RedisServer[] = [];
  let stores: ProtectionStore[] = [];
  let certs: TestCertificates | undefined;
  afterEach(async () => {
    await Promise.all(stores.map((s) => s.close()));
    await Promise.all(servers.map((s) => s.stop()));
    certs?.remove();
    [servers, stores, certs] = [[], [], undefined];
  });

  async function server(options: Parameters<typeof startRedisServer>[0] = {}): Promise<RedisServer> {
    const started = await startRedisServer(options);
    servers.push(started);
    return started;
  }
  async function store(options: Partial<Parameters<typeof createRedisStore>[0]> & { url: string }): Promise<RedisStore> {
    const opened = await createRedisStore({ logger: captureLogs().logger, ...options });
    stores.push(opened);
    return opened;
  }
  const states = (lines: Record<string, unknown>[]) => lines.filter((l) => "protectionState" in l).map((l) => l.protectionState);

  it("Redis stopped mid-run: requests are still answered, degraded, then shared again; logged once per change", async () => {
    const redis = await server();
    const { logger, lines } = captureLogs();
    const clock = new FakeClock();
    const provider = new FakeProvider();
    const shared = await store({ url: redis.url, logger, now: clock.now });
    const gw = instance(shared, provider, clock, {
      limits: { perNumber: { points: 2, durationS: 600 }, perPrefix: undefined, perCountry: undefined, global: undefined, allowedCountries: undefined },
    });
    expect(shared.state).toBe("shared");
    expect((await gw.post(OTP)).kind).toBe("sent_now");

    await redis.stop();
    await until(() => shared.state === "degraded", "the store to notice Redis is gone");
    // Still answering, protecting per instance: a new SMS sends, its repeat is suppressed, the limit still counts.
    const other = { ...OTP, message: "Your Acme verification code is: 246810" };
    const sent = await gw.post(other);
    expect(sent.kind).toBe("sent_now");
    expect(await gw.post(other)).toEqual({ kind: "duplicate", provider: "fake", id: idOf(sent), source: "record" });
    expect((await gw.post({ ...OTP, message: "code 1" })).kind).toBe("sent_now");
    expect(await gw.post({ ...OTP, message: "code 2" })).toMatchObject({ result: { kind: "refused", verdict: { limit: "per_number" } } });
    expect(shared.state).toBe("degraded");

    await redis.restart();
    await shared.whenShared();
    expect(shared.state).toBe("shared");
    // Back on Redis: the first SMS's record was lost with the server (nothing persisted), so it sends again.
    expect((await gw.post(OTP)).kind).toBe("sent_now");
    expect(provider.sends).toHaveLength(4);
    expect(states(lines)).toEqual(["shared", "degraded", "shared"]);
    const degradedLine = lines.find((l) => l.protectionState === "degraded")!;
    expect(degradedLine.severity).toBe("WARNING");
  });

  it("a Redis that hangs costs one command timeout, then requests fall back at once until it answers again", async () => {
    const redis = await server();
    const { logger, lines } = captureLogs();
    // A long timeout, so that "waited it out" and "did not" cannot be mistaken for each other on a busy machine.
    const timeoutMs = 1000;
    const shared = await store({ url: redis.url, logger, commandTimeoutMs: timeoutMs });
    const gw = instance(shared, new FakeProvider(), new FakeClock());
    redis.pause();
    const started = performance.now();
    expect((await gw.post(OTP)).kind).toBe("sent_now");
    const first = performance.now() - started;
    expect(first).toBeGreaterThanOrEqual(timeoutMs - 50); // it did wait for Redis…
    expect(first).toBeLessThan(timeoutMs * 4); // …but only for the timeout, not for the hang
    expect(shared.state).toBe("degraded");
    const next = performance.now();
    expect((await gw.post({ ...OTP, message: "another code 1" })).kind).toBe("sent_now");
    expect(performance.now() - next).toBeLessThan(timeoutMs / 2); // no second timeout: the connection was dropped
    redis.resume();
    await shared.whenShared();
    expect(states(lines)).toEqual(["shared", "degraded", "shared"]);
    expect(lines.find((l) => l.protectionState === "degraded")!.reason).toBe("command timed out");
  });

  it("starts degraded when Redis is not there, says why, and becomes shared when it appears", async () => {
    const redis = await server();
    await redis.stop();
    const { logger, lines } = captureLogs();
    const shared = await store({ url: redis.url, logger, connectWaitMs: 5000 });
    expect(shared.state).toBe("degraded");
    expect(lines.at(-1)).toMatchObject({ severity: "WARNING", protectionState: "degraded", reason: "ECONNREFUSED" });
    await redis.restart();
    await shared.whenShared();
    expect(states(lines)).toEqual(["degraded", "shared"]);
  });

  it("authenticates with the password in the URL or in REDIS_PASSWORD; a wrong one leaves it degraded", async () => {
    const redis = await server({ password: "memorystore-auth-string" });
    const inUrl = await store({ url: redis.url.replace("//", "//:memorystore-auth-string@") });
    const separate = await store({ url: redis.url, password: "memorystore-auth-string" });
    expect([inUrl.state, separate.state]).toEqual(["shared", "shared"]);
    await inUrl.swap("k", undefined, "v", 10_000);
    expect(await separate.get("k")).toBe("v");

    const { logger, lines } = captureLogs();
    const wrong = await store({ url: redis.url, password: "not-the-auth-string", logger, connectWaitMs: 1000 });
    expect(wrong.state).toBe("degraded");
    expect(lines.at(-1)).toMatchObject({ protectionState: "degraded", reason: "WRONGPASS" });
    expect(JSON.stringify(lines)).not.toContain("not-the-auth-string");
    expect(JSON.stringify(lines)).not.toContain("memorystore-auth-string");
  });

  const openssl = opensslAvailability();
  const tlsIt = openssl.available || onCi(process.env) ? it : it.skip;
  if (!openssl.available && !onCi(process.env)) console.warn(`\n!!! SKIPPED the Redis TLS test: ${openssl.reason} !!!\n`);

  tlsIt("rediss:// with the instance's CA connects (a Memorystore-style certificate: IP in the CN only); without it, degraded", async () => {
    certs = makeTestCertificates();
    const redis = await server({ tls: certs, password: "tls-auth" });
    expect(redis.url).toMatch(/^rediss:/);
    const trusted = await store({ url: redis.url, password: "tls-auth", ca: certs.caPem });
    expect(trusted.state).toBe("shared");
    expect((await trusted.swap("k", undefined, "v", 10_000)).swapped).toBe(true);

    const { logger, lines } = captureLogs();
    const untrusted = await store({ url: redis.url, password: "tls-auth", logger, connectWaitMs: 1000 });
    expect(untrusted.state).toBe("degraded");
    expect(lines.at(-1)).toMatchObject({ protectionState: "degraded", reason: "SELF_SIGNED_CERT_IN_CHAIN" });
  });

  it("openStore: the settings choose the store; memory needs nothing running", async () => {
    const { logger } = captureLogs();
    const memory = await openStore({ kind: "memory" }, { logger });
    stores.push(memory);
    expect(memory.state).toBe("local");
    const redis = await server();
    const shared = await openStore({ kind: "redis", url: redis.url, password: undefined, ca: undefined }, { logger });
    stores.push(shared);
    expect(shared.state).toBe("shared");
  });
});

describe("Redis store without a Redis", () => {
  it("answers from memory at once when the address refuses connections", async () => {
    const { logger, lines } = captureLogs();
    // Port 9 (discard) on loopback: nothing listens there in tests.
    const store = await createRedisStore({ url: "redis://127.0.0.1:9", logger, connectWaitMs: 1000 });
    try {
      expect(store.state).toBe("degraded");
      expect((await store.swap("k", undefined, "v", 1000)).swapped).toBe(true);
      expect(await store.get("k")).toBe("v");
      expect(lines.filter((l) => l.protectionState === "degraded")).toHaveLength(1);
    } finally {
      await store.close();
    }
  });
});
