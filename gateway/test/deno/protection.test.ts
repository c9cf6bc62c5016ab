/**
 * Deno smoke of the protection modules on a real redis-server: ioredis over Deno's node:net, the Lua swap, the
 * rate-limiter-flexible counters, and the reconnect after Redis comes back. Two stores on one server stand for two
 * gateway instances. The full behaviour suite runs on Node (gateway/test/protection/); this only shows that the
 * same modules behave the same on Deno.
 */
import { createDedupe, type SendRecord } from "../../src/protection/dedupe.ts";
import { createProtectionKeys } from "../../src/protection/keys.ts";
import { createLimits } from "../../src/protection/limits.ts";
import { createRedisStore, type RedisStore } from "../../src/protection/redisStore.ts";
import { createLogger } from "../../src/log.ts";
import { onCi, redisServerAvailability, startRedisServer } from "../../../scripts/redisServer.ts";

function assertEquals<T>(actual: T, expected: T, what: string): void {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) {
    throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  }
}

const availability = redisServerAvailability();
const ci = onCi(Deno.env.toObject());
if (!availability.available && !ci) {
  console.warn(`\n!!! SKIPPED the Deno Redis smoke: ${availability.reason}. It runs on CI. !!!\n`);
}

Deno.test({
  name: "protection under Deno on a real Redis: one send across two instances, shared limits, degraded and back",
  ignore: !availability.available && !ci,
  async fn() {
    if (!availability.available) throw new Error(`CI must have redis-server: ${availability.reason}`);
    const redis = await startRedisServer();
    const logs: string[] = [];
    const logger = createLogger((line) => logs.push(line));
    const keys = createProtectionKeys("deno-smoke-protection-secret-0123456789");
    const stores: RedisStore[] = [];
    try {
      for (let i = 0; i < 2; i++) stores.push(await createRedisStore({ url: redis.url, logger }));
      assertEquals(stores.map((s) => s.state), ["shared", "shared"], "both stores connected");

      const sends: string[] = [];
      const recordOf = (id: string): SendRecord => ({ kind: "sent", provider: "fake", id });
      const instances = stores.map((store) => ({
        dedupe: createDedupe({ store, keys, windowMs: 60_000, onUnknownRepeat: "send" }),
        limits: createLimits({
          store,
          keys,
          settings: { perNumber: { points: 3, durationS: 600 }, perPrefix: undefined, perCountry: undefined, global: undefined, allowedCountries: undefined },
        }),
      }));
      const to = { e164: "+14155552671", callingCode: "1", country: "US" };
      const post = (i: number, message: string) =>
        instances[i]!.dedupe.run(
          { e164: to.e164, message, deadline: Date.now() + 2500 },
          async () => {
            sends.push(message);
            return `SM${sends.length}`;
          },
          recordOf,
        );

      const first = await post(0, "code 111111");
      const repeat = await post(1, "code 111111");
      assertEquals(first, { kind: "sent_now", result: "SM1" }, "first send");
      assertEquals(repeat, { kind: "duplicate", provider: "fake", id: "SM1", source: "record" }, "repeat on the other instance");
      assertEquals(sends.length, 1, "sends");

      const verdicts = [];
      for (let i = 0; i < 4; i++) verdicts.push((await instances[i % 2]!.limits.check(to)).kind);
      assertEquals(verdicts, ["allowed", "allowed", "allowed", "rate_limited"], "per-number limit across instances");

      await redis.stop();
      const deadline = Date.now() + 5000;
      while (stores[0]!.state !== "degraded" && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      assertEquals(stores[0]!.state, "degraded", "state with Redis stopped");
      assertEquals((await post(0, "code 222222")).kind, "sent_now", "a send while degraded");
      // Per instance while degraded: this instance's own count starts afresh.
      assertEquals((await instances[0]!.limits.check(to)).kind, "allowed", "the limit while degraded");
      await redis.restart();
      await stores[0]!.whenShared();
      assertEquals(stores[0]!.state, "shared", "state after Redis returned");
    } finally {
      await Promise.all(stores.map((s) => s.close()));
      await redis.stop();
    }
  },
});
