import { describe, expect, it } from "vitest";
import { createReplayCache } from "../src/receipts/replayCache.ts";

describe("createReplayCache", () => {
  it("a key is new once, a replay until it expires, and new again after", () => {
    let now = 1_000;
    const cache = createReplayCache({ now: () => now });
    expect(cache.firstSeen("a", 2_000)).toBe(true);
    expect(cache.firstSeen("a", 2_000)).toBe(false);
    now = 1_999;
    expect(cache.firstSeen("a", 2_000)).toBe(false);
    now = 2_000;
    expect(cache.firstSeen("a", 3_000)).toBe(true);
  });

  it("expired entries are dropped as new ones arrive: memory follows the window, not the history", () => {
    let now = 0;
    const cache = createReplayCache({ now: () => now });
    for (let i = 0; i < 1_000; i++) {
      now = i * 10;
      cache.firstSeen(`k${i}`, now + 100); // each key lives 100 ms: ~10 alive at a time
    }
    expect(cache.size).toBeLessThanOrEqual(11);
  });

  it("at capacity the oldest entry goes first", () => {
    const cache = createReplayCache({ now: () => 0, maxEntries: 3 });
    for (const key of ["a", "b", "c", "d"]) expect(cache.firstSeen(key, 1_000)).toBe(true);
    expect(cache.size).toBe(3);
    expect(cache.firstSeen("d", 1_000)).toBe(false);
    expect(cache.firstSeen("a", 1_000)).toBe(true); // evicted, so no longer recognised
  });
});
