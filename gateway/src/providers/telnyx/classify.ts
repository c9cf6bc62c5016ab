import { isObject, isRedirect, parseJsonBody, parseRetryAfter, safeToken, type HttpAnswer } from "../answer.ts";
import type { SendOutcome } from "../provider.ts";

/**
 * What Telnyx's answer to `POST /v2/messages` means for the OTP. Pure, table-tested (gateway/test/telnyx.test.ts).
 *
 * Success: `200 {"data": {"id": …}}` (developers.telnyx.com, messaging "send-message"). Errors:
 * `{"errors": [{"code", "title", "detail"}]}`; branch on `errors[].code`, not on the HTTP status, because the
 * 403xx codes arrive as 400, 403, 409 or 422 (Telnyx API errors page; PROVIDERS.md). Any 4xx is a synchronous
 * refusal (certainly not sent); a 5xx or an unparseable 2xx may have been sent. `title` and `detail` are never
 * kept: they quote the numbers ("Messages cannot be sent from {src} to {dst}").
 */

interface CodeRule {
  outcome: "destination_rejected" | "provider_rejected";
  /** Our words for the log line and the answer. */
  reason: string;
}

/** Codes with a known meaning. A code not listed follows the HTTP status (4xx: ours, 5xx: unknown). */
export const TELNYX_CODES: Readonly<Record<string, CodeRule>> = {
  // developers.telnyx.com/api/errors/40300: the destination sent STOP/END/QUIT to this sender (HTTP 409). Another
  // sender must not try: the recipient opted out.
  "40300": { outcome: "destination_rejected", reason: "the recipient opted out (STOP)" },
  // Messaging error codes (PROVIDERS.md): invalid 'to' address — no provider can deliver to it.
  "40310": { outcome: "destination_rejected", reason: "invalid destination number" },
  // developers.telnyx.com/development/api-fundamentals/api-errors: authentication / authorization failed.
  "10009": { outcome: "provider_rejected", reason: "authentication failed (check TELNYX_API_KEY)" },
  "10010": { outcome: "provider_rejected", reason: "not authorized to send (check the key's permissions)" },
  // Same page: 10016 "must be in +E.164 format" does not say which number; ours are E.164, so it is the sender.
  "10016": { outcome: "provider_rejected", reason: "a number is not in E.164 format (check the sender)" },
  // Messaging error codes (PROVIDERS.md): sender and profile configuration, all ours.
  "40305": { outcome: "provider_rejected", reason: "invalid sender ('from')" },
  "40306": { outcome: "provider_rejected", reason: "alphanumeric sender not configured on the messaging profile" },
  "40309": { outcome: "provider_rejected", reason: "destination region not enabled on the messaging profile" },
  "40312": { outcome: "provider_rejected", reason: "messaging disabled on the account or profile" },
  "40314": { outcome: "provider_rejected", reason: "messaging disabled on the account or profile" },
};

/** 10011 "Too many requests" arrives with HTTP 429 (api-errors page). */
export const TELNYX_RATE_LIMIT_CODE = "10011";

function errorCodes(body: unknown): string[] {
  if (!isObject(body) || !Array.isArray(body.errors)) return [];
  return body.errors.flatMap((e) => {
    const code = isObject(e) ? safeToken(e.code, 12) : undefined;
    return code === undefined ? [] : [code];
  });
}

export function classifyTelnyxAnswer(answer: HttpAnswer): SendOutcome {
  const body = parseJsonBody(answer.body);
  const { status } = answer;
  if (status >= 200 && status < 300) {
    const id = isObject(body) && isObject(body.data) ? safeToken(body.data.id, 128) : undefined;
    return id === undefined
      ? { kind: "unknown", reason: `Telnyx answered ${status} without a message id` }
      : { kind: "sent", id };
  }

  const codes = errorCodes(body);
  const code = codes[0] ?? String(status);
  if (status >= 500) return { kind: "unknown", code, reason: `Telnyx answered ${status}: the SMS may or may not be sent` };
  if (isRedirect(status)) return { kind: "provider_rejected", code, reason: `Telnyx answered a redirect (${status}); not followed` };
  if (status < 400) return { kind: "unknown", code, reason: `Telnyx answered an unexpected ${status}` };

  // The throttle is what HTTP 429 says; 10011 under another 4xx is still a refusal, just not a rate limit to wait on.
  if (status === 429) {
    const retryAfterMs = parseRetryAfter(answer.headers["retry-after"]);
    return {
      kind: "provider_rejected",
      code: codes.includes(TELNYX_RATE_LIMIT_CODE) ? TELNYX_RATE_LIMIT_CODE : code,
      reason: "Telnyx is rate limiting",
      throttled: true,
      ...(retryAfterMs !== undefined && { retryAfterMs }),
    };
  }
  const destination = codes.find((c) => TELNYX_CODES[c]?.outcome === "destination_rejected");
  if (destination !== undefined) {
    return { kind: "destination_rejected", code: destination, reason: `Telnyx: ${TELNYX_CODES[destination]!.reason}` };
  }
  const known = TELNYX_CODES[code];
  return { kind: "provider_rejected", code, reason: `Telnyx refused the SMS (${known ? known.reason : `HTTP ${status}`})` };
}
