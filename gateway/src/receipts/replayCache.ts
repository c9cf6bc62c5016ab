/**
 * Remembers which signed callbacks this instance has already accepted, each until the moment its signature
 * would stop being accepted anyway (the caller says when). A callback seen again before then is a replay.
 *
 * Bounded: at `maxEntries` the oldest entry goes first, so memory stays flat under a flood. That
 * only weakens protection for the oldest entries, and only once more than `maxEntries` receipts arrive within
 * one acceptance window — orders of magnitude above an OTP gateway's receipt rate (default 100,000 entries,
 * ~15 MiB at worst).
 *
 * Per instance: Cloud Run instances share no memory, so a replay sent to another instance inside the window is
 * accepted once more there. The cost is bounded — one duplicate log line, one extra count in a metric — because
 * a receipt changes no state. A shared store (protection/store.ts, issue 11) can replace this where that matters.
 */
export interface ReplayCache {
  /** true the first time `key` is seen (and remembers it until `expiresAt`), false for a replay. */
  firstSeen(key: string, expiresAt: number): boolean;
  readonly size: number;
}

export function createReplayCache(options: { now: () => number; maxEntries?: number }): ReplayCache {
  const { now, maxEntries = 100_000 } = options;
  // One cache per provider, whose keys all get the same window: insertion order ≈ expiry order, so the first
  // entries of the Map are the next to expire and sweeping from the front is amortised O(1) per insert.
  const entries = new Map<string, number>();

  function sweep(at: number): void {
    for (const [key, expiresAt] of entries) {
      if (expiresAt > at && entries.size < maxEntries) break;
      entries.delete(key);
    }
  }

  return {
    firstSeen(key, expiresAt) {
      const at = now();
      const known = entries.get(key);
      if (known !== undefined && known > at) return false;
      entries.delete(key);
      sweep(at);
      entries.set(key, expiresAt);
      return true;
    },
    get size() {
      return entries.size;
    },
  };
}
