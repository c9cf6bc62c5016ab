import type { Destination } from "../phone.ts";

/** What a provider is asked to deliver. The body holds the OTP: providers must never log it. */
export interface OutgoingSms {
  to: Destination;
  body: string;
  /** Mosaic's sender_id, when it sent a non-empty one; the provider decides whether it may be used. */
  senderId: string | undefined;
}

export type ProviderName = "twilio" | "smc" | "telnyx" | "log";

/**
 * What one provider attempt means for the OTP (ARCH.md). The chain decides failover from `kind` alone:
 * only `provider_rejected` lets another provider try, because only then is it certain nothing went out.
 */
export type SendOutcome =
  /** Accepted, with the provider's id. Accepted is not delivered, at every provider. */
  | { kind: "sent"; id: string }
  /** No provider can ever deliver this (invalid number, not a mobile, opted out with STOP): 422, never fail over. */
  | { kind: "destination_rejected"; code?: string; reason: string }
  /**
   * Certainly not sent, for a reason of ours (credentials, sender, geo permission, throttled after the retries that
   * fit, a connection that failed before the request was written): another provider may succeed.
   * `throttled` marks a rate limit (the answer is then 503 when it was the last rejection); the provider retries
   * it within the attempt's limits after `retryAfterMs` (or a backoff), unless `noRetry` (a block, not a pace).
   */
  | { kind: "provider_rejected"; code?: string; reason: string; throttled?: boolean; retryAfterMs?: number; noRetry?: boolean }
  /** May have been sent: a 5xx, a timeout or reset after the request was written, a 2xx that cannot be parsed. */
  | { kind: "unknown"; code?: string; reason: string };

export type OutcomeKind = SendOutcome["kind"];

/**
 * The code of a `provider_rejected` that ran out of time before anything was written (waiting for a connection,
 * a token, or too little time left). The chain goes on to the next entry if there is time for it; when the last
 * attempt ends this way, the answer is a timeout (504 provider_timeout), not a refusal.
 */
export const NOT_STARTED = "not_started";

/** Who the SMS comes from on this attempt, decided by delivery/senderRules.ts from the route entry. */
export interface SenderChoice {
  /** Mosaic's sender_id, already checked: a valid alphanumeric id, and the destination accepts one. */
  alphanumeric?: string;
  /** The route entry's `from` (E.164, short code, Twilio `MG…` or alphanumeric): overrides the provider's default. */
  from?: string;
}

export interface AttemptContext {
  /** Aborted when the gateway's answer deadline passes. */
  signal: AbortSignal;
  /** Epoch ms: the gateway's answer deadline. A request already written may wait for its answer until then. */
  deadline: number;
  /**
   * Epoch ms, at most `deadline`: after this the attempt starts no request (no 429 retry, no new write) and stops
   * waiting for a connection, so the route's next provider keeps its share of the time.
   */
  startBy: number;
  sender: SenderChoice;
}

/**
 * What a provider's read-only look-up found about an earlier send whose outcome was unknown (ARCH.md, "Dedupe
 * contract"): the message and its id; certainly no such message; or nothing either way.
 */
export type LookupAnswer = { found: string } | "absent" | "cannot_tell";

export interface LookupContext {
  /** Epoch ms: the earliest attempt that may have sent it. */
  since: number;
  /** Aborted when the look-up must give up (the request's deadline, less the time a send still needs). */
  signal: AbortSignal;
  /** Epoch ms after which the look-up starts no request (no further page). */
  startBy: number;
}

/**
 * One provider behind the chain (delivery/chain.ts). `attempt` resolves to one outcome and never throws for a
 * provider failure (a bug may throw); a request that cannot finish before `ctx.startBy` is not written.
 */
export interface SmsProvider {
  readonly name: ProviderName;
  attempt(sms: OutgoingSms, ctx: AttemptContext): Promise<SendOutcome>;
  /**
   * Whether `sms` went out since `ctx.since`, asked read-only (issue 11: an unknown outcome is resolved, not
   * guessed). Absent where the provider's API cannot tell; never throws for a provider failure ("cannot_tell").
   */
  lookup?(sms: OutgoingSms, ctx: LookupContext): Promise<LookupAnswer>;
  /** Loads what the first send would otherwise wait for; started right after listening. */
  warmUp?(): Promise<void>;
  /** Releases pooled connections on shutdown. */
  close?(): void;
}
