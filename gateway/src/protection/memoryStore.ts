/// <reference types="./rateLimiterFlexible.d.ts" />
import RateLimiterMemory from "rate-limiter-flexible/lib/RateLimiterMemory.js";
import type { RateLimiterRes } from "rate-limiter-flexible";
import type { Counter, CounterVerdict, ProtectionStore, SwapResult } from "./store.ts";

/**
 * The default store: one instance, nothing to run. Each operation runs to completion on the event loop, which is
 * what makes swap() atomic here. Expiry is checked against the injected clock when a key is read, and a sweep
 * every SWEEP_EVERY writes drops what nobody read again, so memory stays bounded by the traffic of one window.
 */
const SWEEP_EVERY = 1024;

export interface MemoryStore extends ProtectionStore {
  /** Live keys and values (for tests that check what the store holds). */
  entries(): [string, string][];
}

export function createMemoryStore(options: { now?: () => number } = {}): MemoryStore {
  const now = options.now ?? Date.now;
  const values = new Map<string, { value: string; expiresAt: number }>();
  /** One counter per limit per store: everything in this process that counts a limit counts it together. */
  const counters = new Map<string, Counter>();
  let writes = 0;

  function read(key: string): string | undefined {
    const entry = values.get(key);
    if (entry && entry.expiresAt <= now()) {
      values.delete(key);
      return undefined;
    }
    return entry?.value;
  }

  function sweep(): void {
    const t = now();
    for (const [key, entry] of values) if (entry.expiresAt <= t) values.delete(key);
  }

  return {
    state: "local",
    async swap(key, expected, next, ttlMs): Promise<SwapResult> {
      const found = read(key);
      if (found !== expected) return { swapped: false, found };
      if (next === undefined) values.delete(key);
      else values.set(key, { value: next, expiresAt: now() + ttlMs });
      if (++writes % SWEEP_EVERY === 0) sweep();
      return { swapped: true, found };
    },
    async get(key) {
      return read(key);
    },
    counter(name, limit) {
      const id = `${name}:${limit.points}/${limit.durationS}`;
      let counter = counters.get(id);
      if (!counter) counters.set(id, (counter = memoryCounter(name, limit)));
      return counter;
    },
    entries() {
      sweep();
      return [...values].map(([key, entry]) => [key, entry.value]);
    },
    async close() {
      values.clear();
      counters.clear();
    },
  };
}

/**
 * rate-limiter-flexible's in-memory limiter: a fixed window per key from its first point (it reads Date.now
 * itself, so tests move its clock with fake timers). Also the Redis store's fallback while Redis is away.
 */
export function memoryCounter(name: string, limit: { points: number; durationS: number }): Counter {
  const limiter = new RateLimiterMemory({ keyPrefix: name, points: limit.points, duration: limit.durationS });
  return {
    consume: (key) => limiter.consume(key).then(allowed, refusedOrThrow),
    async refund(key) {
      await limiter.reward(key, 1);
    },
  };
}

export const allowed = (): CounterVerdict => ({ allowed: true });

/** rate-limiter-flexible rejects with its RateLimiterRes when the window is full, and with an Error on failure. */
export function refusedOrThrow(err: unknown): CounterVerdict {
  if (err instanceof Error || typeof err !== "object" || err === null || !("msBeforeNext" in err)) throw err;
  return { allowed: false, msBeforeNext: Math.max(0, (err as RateLimiterRes).msBeforeNext) };
}
