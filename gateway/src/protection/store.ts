import type { Logger } from "../log.ts";
import { createMemoryStore } from "./memoryStore.ts";
import type { StoreSettings } from "./settings.ts";

/**
 * Where dedupe records and limit counters live: in this process (memoryStore.ts, the default) or in Redis shared
 * by every instance (redisStore.ts). Both give the same atomic operations, so dedupe.ts and limits.ts never know
 * which one they talk to. Keys arrive already hashed (keys.ts); every value written here expires.
 */
export interface ProtectionStore {
  /**
   * "local": the in-memory store (one instance). "shared": Redis is answering. "degraded": Redis is unreachable
   * and each instance protects itself until it is back (for the health answer's body).
   */
  readonly state: StoreState;
  /**
   * Atomically: when the key's value is `expected` (undefined: the key is absent), replace it with `next`
   * (undefined: delete the key), expiring after `ttlMs`. Answers whether it swapped and the value it found.
   * This one operation is the dedupe lock (absent → in flight), its record (in flight → sent) and its release.
   */
  swap(key: string, expected: string | undefined, next: string | undefined, ttlMs: number): Promise<SwapResult>;
  get(key: string): Promise<string | undefined>;
  /** A fixed-window counter: at most `points` per `durationS` per key (rate-limiter-flexible underneath). */
  counter(name: string, limit: { points: number; durationS: number }): Counter;
  close(): Promise<void>;
}

export type StoreState = "local" | "shared" | "degraded";

export interface SwapResult {
  swapped: boolean;
  /** The value the key held when the swap was tried. */
  found: string | undefined;
}

export interface Counter {
  /** Counts one send for `key`; refused when the window already holds `points`. */
  consume(key: string): Promise<CounterVerdict>;
  /** Gives back one point (a send counted here but refused by another limit). */
  refund(key: string): Promise<void>;
}

export type CounterVerdict = { allowed: true } | { allowed: false; msBeforeNext: number };

export interface OpenStoreOptions {
  logger: Logger;
  now?: () => number;
  /** Redis command timeout; a slower answer counts as unreachable (default in redisStore.ts). */
  commandTimeoutMs?: number;
}

/**
 * The store the settings ask for. The Redis client is imported here, only when REDIS_URL is set: the default
 * deployment does not load it at all (bundled, ioredis alone takes ~25 ms to load on Node 20 and on Deno 2.9).
 */
export async function openStore(settings: StoreSettings, options: OpenStoreOptions): Promise<ProtectionStore> {
  if (settings.kind === "memory") return createMemoryStore({ now: options.now });
  const { createRedisStore } = await import("./redisStore.ts");
  return createRedisStore({ ...settings, ...options });
}
