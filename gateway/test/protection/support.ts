import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, it } from "vitest";
import { createLogger, type Logger } from "../../src/log.ts";
import { createMemoryStore } from "../../src/protection/memoryStore.ts";
import { createRedisStore, type RedisStore } from "../../src/protection/redisStore.ts";
import type { ProtectionStore } from "../../src/protection/store.ts";
import { onCi, redisServerAvailability, startRedisServer, type Availability, type RedisServer } from "../../../scripts/redisServer.ts";

/**
 * A clock the tests move by hand. `sleep` resolves only when `advance` passes its time, so a dedupe waiter polls
 * exactly when a test lets it, never on a real timer.
 */
export class FakeClock {
  private t: number;
  private sleepers: { at: number; resolve: () => void }[] = [];
  constructor(start = Date.now()) {
    this.t = start;
  }
  now = (): number => this.t;
  sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
    new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const sleeper = { at: this.t + ms, resolve };
      this.sleepers.push(sleeper);
      signal?.addEventListener(
        "abort",
        () => {
          this.sleepers = this.sleepers.filter((s) => s !== sleeper);
          resolve();
        },
        { once: true },
      );
    });
  /** How many sleeps are waiting for the clock. */
  get waiting(): number {
    return this.sleepers.length;
  }
  advance(ms: number): void {
    this.t += ms;
    const due = this.sleepers.filter((s) => s.at <= this.t);
    this.sleepers = this.sleepers.filter((s) => s.at > this.t);
    for (const s of due) s.resolve();
  }
}

/** Waits (on real time, bounded) for a condition the code under test brings about. */
export async function until(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

export function deferred<T>(): { promise: Promise<T>; resolve(value: T): void; reject(err: unknown): void } {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

export function captureLogs(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  return { logger: createLogger((line) => lines.push(JSON.parse(line) as Record<string, unknown>)), lines };
}

export const redisAvailability: Availability = redisServerAvailability();

/**
 * describe() for suites that need a real redis-server: skipped with a loud note where it is missing on a
 * developer's machine, failing on CI (CI=true), where .ci/run installs it.
 */
export function describeWithRedis(title: string, body: () => void): void {
  if (redisAvailability.available) {
    describe(title, body);
  } else if (onCi(process.env)) {
    describe(title, () => {
      it("needs redis-server, which CI must have", () => {
        throw new Error(`${title}: ${(redisAvailability as { reason: string }).reason}`);
      });
    });
  } else {
    console.warn(`\n!!! SKIPPED "${title}": ${redisAvailability.reason}. These tests run on CI. !!!\n`);
    describe.skip(title, body);
  }
}

/** One redis-server for the enclosing suite, started before and stopped after it; flushed between uses. */
export function useRedisServer(): { server(): RedisServer; admin(): Redis } {
  let server: RedisServer | undefined;
  let admin: Redis | undefined;
  beforeAll(async () => {
    server = await startRedisServer();
    admin = new Redis(server.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await admin.connect();
  });
  afterAll(async () => {
    admin?.disconnect();
    await server?.stop();
  });
  return { server: () => server!, admin: () => admin! };
}

/** Everything Redis holds: keys and, for strings, values (what an operator with access would see). */
export async function dumpRedis(admin: Redis): Promise<string[]> {
  const keys = await admin.keys("*");
  const values = await Promise.all(keys.map(async (k) => ((await admin.type(k)) === "string" ? await admin.get(k) : "")));
  return [...keys, ...values.map((v) => v ?? "")];
}

export interface Backend {
  name: "memory" | "redis";
  /** A store as one gateway instance would open it; two calls = two instances sharing the state. */
  open(clock: FakeClock): Promise<ProtectionStore>;
  /** Every key and value the state holds, as text. */
  dump(stores: ProtectionStore[]): Promise<string[]>;
  /** Remaining time to live of every key, in ms. */
  ttls(stores: ProtectionStore[]): Promise<number[]>;
  reset(): Promise<void>;
}

export const memoryBackend: Backend = {
  name: "memory",
  async open(clock) {
    return createMemoryStore({ now: clock.now });
  },
  async dump(stores) {
    return stores.flatMap((s) => (s as ReturnType<typeof createMemoryStore>).entries().flat());
  },
  async ttls() {
    return []; // in-memory expiry is covered by the clock-driven tests
  },
  async reset() {},
};

export function redisBackend(redis: { server(): RedisServer; admin(): Redis }): Backend {
  const { logger } = captureLogs();
  return {
    name: "redis",
    async open(clock) {
      const store: RedisStore = await createRedisStore({ url: redis.server().url, logger, now: clock.now });
      await store.whenShared();
      return store;
    },
    async dump() {
      return dumpRedis(redis.admin());
    },
    async ttls() {
      const admin = redis.admin();
      return Promise.all((await admin.keys("*")).map((k) => admin.pttl(k)));
    },
    async reset() {
      await redis.admin().flushall();
    },
  };
}
