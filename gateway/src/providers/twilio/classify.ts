/**
 * What a failed Twilio call means for the OTP, decided from the error alone.
 * Sources: Twilio error dictionary (https://www.twilio.com/docs/api/errors) and its guidance that a 429 is never
 * processed (safe to retry) while a 5xx, a timeout or a dropped connection leaves the outcome unknown.
 */

export type TwilioFailure =
  /** The destination can never receive this SMS: tell Mosaic, do not retry. */
  | { kind: "rejected"; code: number }
  /** Not processed; safe to send again while the deadline allows. */
  | { kind: "rate_limited"; retryAfterMs: number | undefined }
  /** Failed, or the outcome is unknown: never resend (the OTP could arrive twice). */
  | { kind: "failed"; reason: "provider_4xx" | "provider_5xx" | "invalid_response" | "network"; code?: number }
  /** No answer before the deadline: outcome unknown, never resend. */
  | { kind: "timeout" };

/** Permanent rejections of the destination number. */
export const DESTINATION_REJECTED = new Set([21211, 21408, 21610, 21612, 21614]);
const TOO_MANY_REQUESTS = 20429;

interface RestExceptionLike {
  status: number;
  code?: number;
}

export interface FailureContext {
  /** The gateway's deadline had passed when the call failed. */
  deadlinePassed: boolean;
  /** The answer's Retry-After, when it had one (the SDK's RestException drops headers). */
  retryAfterMs?: number | undefined;
}

function isRestException(err: unknown): err is RestExceptionLike {
  return typeof err === "object" && err !== null && typeof (err as { status?: unknown }).status === "number";
}

export function classifyTwilioFailure(err: unknown, { deadlinePassed, retryAfterMs }: FailureContext): TwilioFailure {
  if (deadlinePassed || (err instanceof Error && (err.name === "AbortError" || err.name === "TimeoutError"))) {
    return { kind: "timeout" };
  }
  if (isRestException(err)) {
    const code = typeof err.code === "number" ? err.code : undefined;
    if (err.status === 429 || code === TOO_MANY_REQUESTS) return { kind: "rate_limited", retryAfterMs };
    if (code !== undefined && DESTINATION_REJECTED.has(code)) return { kind: "rejected", code };
    if (err.status >= 500) return { kind: "failed", reason: "provider_5xx", ...(code === undefined ? {} : { code }) };
    return { kind: "failed", reason: "provider_4xx", ...(code === undefined ? {} : { code }) };
  }
  // The SDK JSON.parses a 2xx body itself: a SyntaxError means Twilio answered something that is not its API.
  if (err instanceof SyntaxError) return { kind: "failed", reason: "invalid_response" };
  return { kind: "failed", reason: "network" };
}

/** Twilio's `Retry-After` is in seconds; anything unparseable is ignored. */
export function parseRetryAfter(value: unknown): number | undefined {
  const seconds = typeof value === "string" ? Number(value) : typeof value === "number" ? value : NaN;
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
}
