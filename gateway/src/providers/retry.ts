import { NOT_STARTED, type AttemptContext, type SendOutcome } from "./provider.ts";
import type { AttemptLimits } from "./transport.ts";

/**
 * The one retry a provider may make on its own: after a rate limit (HTTP 429), which promises that nothing was
 * processed. Every other outcome goes straight back to the chain, which alone decides about other providers.
 */

/**
 * A request is only written if it has this long before the deadline: less would most likely be cut off after
 * the provider received it — an SMS sent while the caller is told it timed out. Checked for every request, the
 * first included, and again when the pooled connection is in hand (transport.ts).
 */
export const MIN_ATTEMPT_MS = 150;
/** Backoff for 429s: 100 ms doubling, full jitter, or the provider's Retry-After when it sends one... */
const BASE_BACKOFF_MS = 100;
/** ...but never less than this: a `Retry-After: 0` must not turn the retry into a hot loop (issue 8). */
const MIN_BACKOFF_MS = 50;
/** Requests per attempt, the first included: a 429 storm costs a provider at most this many per OTP. */
export const MAX_REQUESTS = 3;

/**
 * The limits of one request of this attempt: no write after the entry's share of the time (`startBy`, so the
 * route's next provider keeps its own) nor after `MIN_ATTEMPT_MS` before the deadline.
 */
export function requestLimits(ctx: AttemptContext): AttemptLimits {
  return { signal: ctx.signal, startBy: Math.min(ctx.startBy, ctx.deadline - MIN_ATTEMPT_MS) };
}

export interface RetryDeps {
  now: () => number;
  sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  random?: () => number;
}

/** A provider's retry dependencies from its options: the real clock and sleep unless a test injects its own. */
export function retryDeps(options: Partial<RetryDeps>): RetryDeps {
  return {
    now: options.now ?? Date.now,
    sleep: options.sleep ?? abortableSleep,
    ...(options.random !== undefined && { random: options.random }),
  };
}

export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Runs `request` until it is not throttled, at most MAX_REQUESTS times, sleeping between as the provider asks,
 * and only while the next request could still be written within the attempt's limits.
 */
export async function retryWhileThrottled(
  request: (limits: AttemptLimits) => Promise<SendOutcome>,
  ctx: AttemptContext,
  { now, sleep, random = Math.random }: RetryDeps,
): Promise<SendOutcome> {
  const limits = requestLimits(ctx);
  for (let n = 1; ; n++) {
    // Checked again by the transport once a connection is in hand; here it spares building a request at all.
    if (now() > limits.startBy) {
      return { kind: "provider_rejected", code: NOT_STARTED, reason: "no time left to start the request" };
    }
    const outcome = await request(limits);
    if (outcome.kind !== "provider_rejected" || outcome.throttled !== true || outcome.noRetry || n >= MAX_REQUESTS) {
      return outcome;
    }
    const delay = Math.max(MIN_BACKOFF_MS, outcome.retryAfterMs ?? random() * BASE_BACKOFF_MS * 2 ** (n - 1));
    if (now() + delay > limits.startBy) return outcome;
    try {
      await sleep(delay, ctx.signal);
    } catch {
      return outcome; // the deadline came while waiting: still certainly not sent
    }
  }
}
