import type { Logger } from "../log.ts";
import type { ProtectionKeys } from "./keys.ts";
import type { OnUnknownRepeat } from "./settings.ts";
import type { ProtectionStore } from "./store.ts";

/**
 * Duplicate suppression (ARCH.md, "Dedupe contract"): the same (number, text) within the window is sent once.
 *
 * - The first request takes an in-flight lock (an atomic swap: absent → in flight) and sends.
 * - A repeat on the same instance joins that send and gets its result; a repeat on another instance polls the
 *   shared record, with a bound, until it changes or the repeat's own deadline passes.
 * - A repeat after "sent" gets the first send's provider and id, and sends nothing.
 * - A send that certainly failed (a rejection, a limit's refusal) leaves no record: the next attempt may send. When
 *   it was itself a second try after an "unknown", the "unknown" record is put back: the first may still be out.
 * - An "unknown" record (the SMS may have gone out) is resolved by asking the provider (`lookup`); when it cannot
 *   tell, ON_UNKNOWN_REPEAT decides (send: a possible duplicate beats a lost OTP; suppress).
 * - A lock whose holder died (its deadline passed long ago without a record) counts as "unknown".
 */

export type LookupAnswer = { found: { provider: string; id: string } } | "absent" | "cannot_tell";

/** What a finished send leaves in the store, decided by the caller from its own result type. */
export type SendRecord =
  | { kind: "sent"; provider: string; id: string }
  | { kind: "unknown"; provider: string }
  /** Certainly not sent: a rejection, a limit's refusal. No record. */
  | { kind: "none" };

export interface DedupeRequest {
  e164: string;
  message: string;
  /** Epoch ms by which the caller answers: waiting for another request's send ends here. */
  deadline: number;
  signal?: AbortSignal;
  /**
   * Asks the provider whether an earlier send that ended "unknown" went out (SmsProvider.lookup). `provider` is
   * undefined when the earlier holder died before it recorded which provider it used. Omitted: cannot tell.
   */
  lookup?: (earlier: { provider: string | undefined; since: number }, signal?: AbortSignal) => Promise<LookupAnswer>;
}

export type DedupeResult<T> =
  /** This request sent (or tried to): the caller answers from its result. */
  | { kind: "sent_now"; result: T }
  /** A repeat that arrived while this instance was sending the same SMS: that send's result (nothing sent). */
  | { kind: "joined"; result: T }
  /** Sent before (by the record, or found by the provider look-up): 200 with this id, `deduplicated: true`. */
  | { kind: "duplicate"; provider: string; id: string; source: "record" | "lookup" }
  /** An earlier send's outcome is unknown, the provider cannot tell, and ON_UNKNOWN_REPEAT=suppress. */
  | { kind: "unknown_suppressed"; provider: string | undefined }
  /** Another instance is still sending this SMS at this request's deadline: it may or may not go out. */
  | { kind: "still_in_flight" };

export interface Dedupe {
  /**
   * Runs `send` at most once per (number, text) within the window, across instances. `recordOf` says what its
   * result leaves behind. A `send` that throws leaves no record (the caller throws only when nothing was sent);
   * repeats that joined it on this instance get the same error.
   */
  run<T>(request: DedupeRequest, send: () => Promise<T>, recordOf: (result: T) => SendRecord): Promise<DedupeResult<T>>;
}

export interface DedupeOptions {
  store: ProtectionStore;
  keys: ProtectionKeys;
  /** 0: off, every request sends. */
  windowMs: number;
  onUnknownRepeat: OnUnknownRepeat;
  logger?: Logger;
  now?: () => number;
  /** Waits between polls of another instance's lock; must end early when `signal` aborts. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** Polls of another instance's lock: 20 ms doubling to 200 ms (an OTP send takes a few hundred ms). */
export const POLL_FIRST_MS = 20;
export const POLL_MAX_MS = 200;
/** A lock this long past its holder's deadline has no live holder: its send ended without a record. */
export const STALE_AFTER_MS = 1000;

type StoredRecord =
  | { state: "in_flight"; token: string; at: number; until: number }
  | { state: "sent"; provider: string; id: string; at: number }
  | { state: "unknown"; provider: string | undefined; at: number };

function decode(value: string): StoredRecord | undefined {
  try {
    const r = JSON.parse(value) as Partial<StoredRecord> & Record<string, unknown>;
    if (typeof r.at !== "number") return undefined;
    if (r.state === "in_flight" && typeof r.token === "string" && typeof r.until === "number") return r as StoredRecord;
    if (r.state === "sent" && typeof r.provider === "string" && typeof r.id === "string") return r as StoredRecord;
    if (r.state === "unknown") return { state: "unknown", provider: typeof r.provider === "string" ? r.provider : undefined, at: r.at };
  } catch {
    // not ours: treated below as an unknown outcome
  }
  return undefined;
}

export function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}

const TIMED_OUT = Symbol("timed out");

export function createDedupe(options: DedupeOptions): Dedupe {
  const { store, keys, windowMs, onUnknownRepeat, logger } = options;
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? defaultSleep;
  /** This instance's sends in flight, by key: repeats here join them without touching the store. */
  const inFlight = new Map<string, Promise<DedupeResult<unknown>>>();

  /**
   * A repeat on this instance waits for the leader's answer, or for its own deadline (its signal). The leader
   * itself ends by its earlier deadline, so this bound only matters if a send overran it.
   */
  async function joinLeader<T>(leader: Promise<T>, signal: AbortSignal | undefined): Promise<T | typeof TIMED_OUT> {
    if (!signal) return leader;
    if (signal.aborted) return TIMED_OUT;
    let onAbort!: () => void;
    const aborted = new Promise<typeof TIMED_OUT>((resolve) => {
      onAbort = () => resolve(TIMED_OUT);
      signal.addEventListener("abort", onAbort, { once: true });
    });
    try {
      return await Promise.race([leader, aborted]);
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  }

  /** Polls another instance's record until it differs from `seen`, goes stale, or the deadline comes. */
  async function waitForChange(key: string, seen: string, until: number, request: DedupeRequest): Promise<boolean> {
    let delay = POLL_FIRST_MS;
    for (;;) {
      const remaining = request.deadline - now();
      if (remaining <= 0 || request.signal?.aborted) return false;
      await sleep(Math.min(delay, remaining), request.signal);
      if ((await store.get(key)) !== seen || now() > until + STALE_AFTER_MS) return true;
      delay = Math.min(delay * 2, POLL_MAX_MS);
    }
  }

  async function ask(request: DedupeRequest, earlier: { provider: string | undefined; since: number }): Promise<LookupAnswer> {
    if (!request.lookup) return "cannot_tell";
    try {
      return await request.lookup(earlier, request.signal);
    } catch (err) {
      logger?.warn("dedupe: provider look-up failed; treated as cannot tell", {
        provider: earlier.provider,
        error: err instanceof Error ? err.name : "unknown",
      });
      return "cannot_tell";
    }
  }

  async function write(key: string, expected: string | undefined, next: string | undefined, ttlMs: number): Promise<boolean> {
    try {
      const { swapped, found } = await store.swap(key, expected, next, ttlMs);
      // Our lock expired and nobody took the key: the record is still worth keeping.
      if (!swapped && found === undefined && next !== undefined) return (await store.swap(key, undefined, next, ttlMs)).swapped;
      return swapped;
    } catch (err) {
      // The SMS went (or did not) whatever the store says: never turn a send into an error here.
      logger?.error("dedupe: record not written", { error: err instanceof Error ? err.name : "unknown" });
      return false;
    }
  }

  async function lead<T>(
    key: string,
    request: DedupeRequest,
    send: () => Promise<T>,
    recordOf: (result: T) => SendRecord,
  ): Promise<DedupeResult<T>> {
    const token = crypto.randomUUID();
    let firstAt = now();
    /** What the swap must find to take the key: absent first, an unknown record when sending again. */
    let expected: string | undefined;
    for (let round = 0; ; round++) {
      if (round > 0 && (now() >= request.deadline || request.signal?.aborted)) return { kind: "still_in_flight" };
      const mine = JSON.stringify({ state: "in_flight", token, at: firstAt, until: request.deadline });
      const lockTtlMs = Math.max(windowMs, request.deadline - now() + STALE_AFTER_MS);
      const { swapped, found } = await store.swap(key, expected, mine, lockTtlMs);
      if (swapped) return sendAndRecord(key, mine, firstAt, send, recordOf, expected);
      expected = undefined;
      if (found === undefined) continue; // the unknown record we meant to replace expired: claim it as absent

      const record = decode(found) ?? { state: "unknown" as const, provider: undefined, at: now() - windowMs };
      if (record.state === "sent") return { kind: "duplicate", provider: record.provider, id: record.id, source: "record" };
      if (record.state === "in_flight" && now() <= record.until + STALE_AFTER_MS) {
        if (!(await waitForChange(key, found, record.until, request))) return { kind: "still_in_flight" };
        continue;
      }
      // "unknown", or a lock whose holder died mid-send: it may have gone out.
      const earlier = { provider: record.state === "unknown" ? record.provider : undefined, since: record.at };
      const answer = await ask(request, earlier);
      if (typeof answer === "object") {
        const sent = JSON.stringify({ state: "sent", ...answer.found, at: record.at });
        await write(key, found, sent, windowMs);
        return { kind: "duplicate", ...answer.found, source: "lookup" };
      }
      if (answer === "cannot_tell" && onUnknownRepeat === "suppress") {
        return { kind: "unknown_suppressed", provider: earlier.provider };
      }
      expected = found; // send again, if nobody else took it meanwhile
      firstAt = record.at; // so a later look-up covers both attempts
    }
  }

  /**
   * Sends under our lock and leaves what the result says. `replaced`: the "unknown" record this send took over; a
   * send that then certainly fails puts it back (for what is left of its window), since the earlier may be out.
   */
  async function sendAndRecord<T>(
    key: string,
    mine: string,
    firstAt: number,
    send: () => Promise<T>,
    recordOf: (result: T) => SendRecord,
    replaced: string | undefined,
  ): Promise<DedupeResult<T>> {
    const release = () => {
      const ttlMs = firstAt + windowMs - now();
      return replaced !== undefined && ttlMs > 0 ? write(key, mine, replaced, ttlMs) : write(key, mine, undefined, 0);
    };
    let result: T;
    try {
      result = await send();
    } catch (err) {
      await release();
      throw err;
    }
    const record = recordOf(result);
    if (record.kind === "none") await release();
    else {
      const { kind, ...fields } = record;
      await write(key, mine, JSON.stringify({ state: kind, ...fields, at: firstAt }), windowMs);
    }
    return { kind: "sent_now", result };
  }

  return {
    async run(request, send, recordOf) {
      if (windowMs <= 0) return { kind: "sent_now", result: await send() };
      const key = `d:${keys.dedupe(request.e164, request.message)}`;
      for (;;) {
        const leader = inFlight.get(key) as Promise<DedupeResult<Awaited<ReturnType<typeof send>>>> | undefined;
        if (!leader) break;
        const outcome = await joinLeader(leader, request.signal);
        if (outcome === TIMED_OUT) return { kind: "still_in_flight" };
        // The send it joined may or may not have gone out: resolve that as any later repeat would (the first of
        // the joiners asks the provider, the others join it), rather than hand on "unknown".
        if (outcome.kind === "sent_now" && recordOf(outcome.result).kind === "unknown" && now() < request.deadline) continue;
        return outcome.kind === "sent_now" ? { kind: "joined", result: outcome.result } : outcome;
      }
      const running = lead(key, request, send, recordOf);
      inFlight.set(key, running);
      try {
        return await running;
      } finally {
        inFlight.delete(key);
      }
    },
  };
}
