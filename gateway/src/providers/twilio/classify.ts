import { isNamed, transportFailure } from "../transport.ts";
import type { SendOutcome } from "../provider.ts";

/**
 * What a Twilio call means for the OTP, decided from the SDK's result or error and from whether our request went
 * out. Pure, table-tested (gateway/test/twilioDecisions.test.ts). Sources: Twilio's error dictionary
 * (twilio.com/docs/api/errors/{code}) and its guidance that a 429 is never processed (safe to retry) while a 5xx,
 * a timeout or a dropped connection leaves the outcome unknown. The SDK's error message is never kept: Twilio's
 * messages quote the numbers ("The 'To' number +1… is not a valid phone number").
 */

/**
 * Refusals that are about the number itself: no provider can deliver to it, and after an opt-out none may try.
 * Refusals about us (credentials 20003, sender 21606, trial 21608, geo permission 21408, an unroutable To/From
 * pair 21612) are `provider_rejected`: another provider may well succeed.
 */
export const DESTINATION_REJECTED: ReadonlyMap<number, string> = new Map([
  // 21211: "Invalid 'To' Phone Number".
  [21211, "invalid destination number"],
  // 21265: "'To' number cannot be a Short Code".
  [21265, "the destination is a short code"],
  // 21610: "Message cannot be sent to the 'To' number because the customer has replied with STOP".
  [21610, "the recipient opted out (STOP)"],
  // 21614: "'To' number is not a valid mobile number".
  [21614, "the destination is not a mobile number"],
  // 21635: "'To' number cannot be a landline" (where Twilio does not attempt landline delivery).
  [21635, "the destination is a landline"],
]);

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

export function classifyTwilioFailure(err: unknown, { deadlinePassed, written, retryAfterMs }: FailureContext): SendOutcome {
  if (!written && isNamed(err, "SdkCallOrderError")) {
    return { kind: "provider_rejected", code: "sdk_call_order", reason: "the twilio SDK did not call its httpClient as this gateway expects" };
  }
  if (written && isRestException(err)) {
    const code = typeof err.code === "number" ? String(err.code) : String(err.status);
    // Only the HTTP status 429 promises that nothing was processed: a 20429 code in a 5xx body does not (issue 8).
    if (err.status === 429) {
      return {
        kind: "provider_rejected",
        code,
        reason: "Twilio is rate limiting",
        throttled: true,
        ...(retryAfterMs !== undefined && { retryAfterMs }),
      };
    }
    if (err.status >= 500) return { kind: "unknown", code, reason: `Twilio answered ${err.status}` };
    if (err.status >= 300 && err.status < 400) {
      return { kind: "provider_rejected", code: String(err.status), reason: `Twilio answered a redirect (${err.status}); not followed` };
    }
    const destination = typeof err.code === "number" ? DESTINATION_REJECTED.get(err.code) : undefined;
    if (destination !== undefined) return { kind: "destination_rejected", code, reason: destination };
    return { kind: "provider_rejected", code, reason: `Twilio refused the SMS (error ${code})` };
  }
  // The SDK JSON.parses a 2xx body itself: a SyntaxError means Twilio answered something that is not its API.
  if (written && !deadlinePassed && err instanceof SyntaxError) {
    return { kind: "unknown", code: "invalid_response", reason: "Twilio's answer was not JSON" };
  }
  // Everything else is the transport's: not written (refused, no time left) or written and then cut off.
  return transportFailure("Twilio", err, { written, deadlinePassed });
}

/**
 * A Message SID, as Twilio's OpenAPI spec defines it (twilio_api_v2010.json, `api.v2010.account.message.sid`:
 * `^(SM|MM)[0-9a-fA-F]{32}$`). A 2xx without one is not an answer we can trust: outcome unknown.
 */
export const MESSAGE_SID = /^(SM|MM)[0-9a-fA-F]{32}$/;

/** The message resource of a 2xx: sent with its SID, or unknown without a usable one. */
export function classifyTwilioMessage(message: { sid?: unknown }): SendOutcome {
  return typeof message.sid === "string" && MESSAGE_SID.test(message.sid)
    ? { kind: "sent", id: message.sid }
    : { kind: "unknown", code: "invalid_response", reason: "Twilio answered without a Message SID" };
}
