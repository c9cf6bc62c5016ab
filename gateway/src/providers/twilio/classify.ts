/**
 * What a failed Twilio call means for the OTP, decided from the error and from whether our request went out.
 * Sources: Twilio error dictionary (https://www.twilio.com/docs/api/errors) and its guidance that a 429 is never
 * processed (safe to retry) while a 5xx, a timeout or a dropped connection leaves the outcome unknown.
 */

export type TwilioFailure =
  /** The destination can never receive this SMS: tell Mosaic, do not retry. */
  | { kind: "destination_rejected"; code: number }
  /** HTTP 429: not processed; safe to send again while the deadline allows. */
  | { kind: "rate_limited"; retryAfterMs: number | undefined }
  /** Certainly not sent: Twilio refused the request (4xx, a redirect) or it never left (no connection). */
  | { kind: "provider_rejected"; reason: "provider_4xx" | "redirect" | "not_connected"; code?: number }
  /** The request went out and no usable answer came back: the SMS may or may not be sent. Never resend. */
  | { kind: "unknown"; reason: "provider_5xx" | "invalid_response" | "network" | "deadline"; code?: number }
  /** The deadline passed, or left too little time, before the request was written: certainly not sent. */
  | { kind: "not_started" };

/** Permanent rejections of the destination number. */
export const DESTINATION_REJECTED = new Set([21211, 21408, 21610, 21612, 21614]);

interface RestExceptionLike {
  status: number;
  code?: number;
}

export interface FailureContext {
  /** The gateway's deadline had passed when the call failed. */
  deadlinePassed: boolean;
  /**
   * The request was handed to a connected socket: from then on Twilio may have received it. Before that (waiting
   * for a pooled connection, connecting, refused) nothing can have been sent.
   */
  written: boolean;
  /** The answer's Retry-After, when it had one (the SDK's RestException drops headers). */
  retryAfterMs?: number | undefined;
}

function isRestException(err: unknown): err is RestExceptionLike {
  return typeof err === "object" && err !== null && typeof (err as { status?: unknown }).status === "number";
}

const isAbort = (err: unknown) => err instanceof Error && (err.name === "AbortError" || err.name === "TimeoutError");

export function classifyTwilioFailure(err: unknown, { deadlinePassed, written, retryAfterMs }: FailureContext): TwilioFailure {
  if (!written) {
    return deadlinePassed || isAbort(err) || (err instanceof Error && err.name === "AttemptNotStartedError")
      ? { kind: "not_started" }
      : { kind: "provider_rejected", reason: "not_connected" };
  }
  if (isRestException(err)) {
    const code = typeof err.code === "number" ? err.code : undefined;
    const withCode = code === undefined ? {} : { code };
    // Only the HTTP status 429 promises that nothing was processed: a 20429 code in a 5xx body does not (issue 8).
    if (err.status === 429) return { kind: "rate_limited", retryAfterMs };
    if (err.status >= 500) return { kind: "unknown", reason: "provider_5xx", ...withCode };
    if (err.status >= 300 && err.status < 400) return { kind: "provider_rejected", reason: "redirect", code: err.status };
    if (code !== undefined && DESTINATION_REJECTED.has(code)) return { kind: "destination_rejected", code };
    return { kind: "provider_rejected", reason: "provider_4xx", ...withCode };
  }
  if (deadlinePassed || isAbort(err)) return { kind: "unknown", reason: "deadline" };
  // The SDK JSON.parses a 2xx body itself: a SyntaxError means Twilio answered something that is not its API.
  if (err instanceof SyntaxError) return { kind: "unknown", reason: "invalid_response" };
  return { kind: "unknown", reason: "network" };
}

/** Twilio's `Retry-After` is in seconds; anything unparseable is ignored. */
export function parseRetryAfter(value: unknown): number | undefined {
  const seconds = typeof value === "string" ? Number(value) : typeof value === "number" ? value : NaN;
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
}

/**
 * A Message SID, as Twilio's OpenAPI spec defines it (twilio_api_v2010.json, `api.v2010.account.message.sid`:
 * `^(SM|MM)[0-9a-fA-F]{32}$`). A 2xx without one is not an answer we can trust: outcome unknown.
 */
export const MESSAGE_SID = /^(SM|MM)[0-9a-fA-F]{32}$/;
