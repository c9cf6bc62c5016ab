import {
  NOT_STARTED,
  type OutcomeKind,
  type OutgoingSms,
  type ProviderName,
  type SendOutcome,
  type SmsProvider,
} from "../providers/provider.ts";
import type { RouteEntry } from "./routes.ts";
import { chooseSender } from "./senderRules.ts";

/**
 * One route's entries tried in order, inside one deadline. The rules (issue 10):
 * - the next entry is tried only after `provider_rejected` (certainly not sent);
 * - after `unknown` the chain stops (the OTP may be out: a second send could duplicate it), unless the tenant set
 *   FAILOVER_ON_UNKNOWN and prefers a possible duplicate to a lost OTP;
 * - `destination_rejected` ends the chain: no provider can deliver it, and after an opt-out none may try;
 * - an entry is not started when less than `minAttemptMs` remains, and each entry may start requests (429 retries,
 *   waiting for a connection) only within its share of the time left, so a throttled provider cannot eat the
 *   time of the providers behind it. A request already written waits for its answer until the deadline: cutting
 *   it short would only turn a known outcome into an unknown one.
 */

export interface ChainStep {
  provider: SmsProvider;
  entry: RouteEntry;
}

/** One attempt as the log line shows it: never the text, never a provider's own message (it may quote numbers). */
export interface AttemptRecord {
  provider: ProviderName;
  outcome: OutcomeKind;
  latencyMs: number;
  code?: string;
}

export type ChainVerdict =
  | { kind: "sent"; provider: ProviderName; id: string }
  | { kind: "destination_rejected"; provider: ProviderName; code?: string; reason: string }
  /** Every entry answered provider_rejected; `throttled` when the last one was a rate limit. */
  | { kind: "rejected"; provider: ProviderName; code?: string; reason: string; throttled: boolean; retryAfterMs?: number }
  /** Some attempt may have sent the OTP; `deadline` when the deadline had passed by the end. */
  | { kind: "unknown"; provider: ProviderName; code?: string; reason: string; deadline: boolean }
  /** Out of time with nothing written that could have sent: certainly not sent. */
  | { kind: "timeout"; reason: string };

export interface ChainResult {
  verdict: ChainVerdict;
  attempts: AttemptRecord[];
}

export interface ChainOptions {
  now: () => number;
  /** FAILOVER_ON_UNKNOWN: try the next entry after an unknown outcome too. Default false. */
  failoverOnUnknown: boolean;
  /** An entry with less time than this left is not started (a provider round trip needs about this long). */
  minAttemptMs: number;
}

export interface ChainDeadline {
  signal: AbortSignal;
  /** Epoch ms by which the gateway answers. */
  deadline: number;
}

type Last = { provider: ProviderName; outcome: Extract<SendOutcome, { kind: "provider_rejected" | "unknown" }> };

function codeOf(outcome: SendOutcome): { code?: string } {
  return "code" in outcome && outcome.code !== undefined ? { code: outcome.code } : {};
}

export async function runChain(
  steps: readonly ChainStep[],
  sms: OutgoingSms,
  { signal, deadline }: ChainDeadline,
  { now, failoverOnUnknown, minAttemptMs }: ChainOptions,
  /** Filled as attempts finish, so a caller that stops waiting still knows what was tried. */
  attempts: AttemptRecord[] = [],
): Promise<ChainResult> {
  let lastRejected: Last | undefined;
  let firstUnknown: Last | undefined;
  let outOfTime = false;

  for (let i = 0; i < steps.length; i++) {
    const { provider, entry } = steps[i]!;
    const startedAt = now();
    const remaining = deadline - startedAt;
    if (signal.aborted || remaining < minAttemptMs) {
      outOfTime = true;
      break;
    }
    // An equal share of what is left for each entry still to come; the last one may use it all.
    const startBy = i === steps.length - 1 ? deadline : startedAt + Math.floor(remaining / (steps.length - i));
    const outcome = await provider.attempt(sms, {
      signal,
      deadline,
      startBy,
      sender: chooseSender(entry, sms.to, sms.senderId),
    });
    attempts.push({ provider: provider.name, outcome: outcome.kind, latencyMs: now() - startedAt, ...codeOf(outcome) });

    switch (outcome.kind) {
      case "sent":
        return { verdict: { kind: "sent", provider: provider.name, id: outcome.id }, attempts };
      case "destination_rejected":
        return {
          verdict: { kind: "destination_rejected", provider: provider.name, reason: outcome.reason, ...codeOf(outcome) },
          attempts,
        };
      case "unknown":
        firstUnknown ??= { provider: provider.name, outcome };
        if (!failoverOnUnknown) return { verdict: unknownVerdict(firstUnknown, signal, now, deadline), attempts };
        break;
      case "provider_rejected":
        lastRejected = { provider: provider.name, outcome };
        break;
    }
  }

  if (firstUnknown) return { verdict: unknownVerdict(firstUnknown, signal, now, deadline), attempts };
  // Out of time: an entry left untried, the deadline gone, or the last attempt unable to start in time.
  if (outOfTime || signal.aborted || now() >= deadline || !lastRejected || lastRejected.outcome.code === NOT_STARTED) {
    const tried = attempts.map((a) => a.provider).join(", ");
    return {
      verdict: {
        kind: "timeout",
        reason: tried ? `no time left after ${tried} rejected the SMS` : "no time left to start a provider attempt",
      },
      attempts,
    };
  }
  const rejected = lastRejected.outcome as Extract<SendOutcome, { kind: "provider_rejected" }>;
  return {
    verdict: {
      kind: "rejected",
      provider: lastRejected.provider,
      reason: rejected.reason,
      throttled: rejected.throttled === true,
      ...codeOf(rejected),
      ...(rejected.retryAfterMs !== undefined && { retryAfterMs: rejected.retryAfterMs }),
    },
    attempts,
  };
}

function unknownVerdict(first: Last, signal: AbortSignal, now: () => number, deadline: number): ChainVerdict {
  return {
    kind: "unknown",
    provider: first.provider,
    reason: first.outcome.reason,
    deadline: signal.aborted || now() >= deadline,
    ...codeOf(first.outcome),
  };
}
