/**
 * Twilio delivery receipts: the StatusCallback POSTs Twilio sends as a message moves queued → sent → delivered
 * (or undelivered/failed). https://www.twilio.com/docs/messaging/guides/track-outbound-message-status
 *
 * Authenticity: `X-Twilio-Signature` is an HMAC-SHA1 keyed with the account auth token over the full URL Twilio
 * called followed by the POST parameters sorted by name
 * (https://www.twilio.com/docs/usage/webhooks/webhooks-security). Checked with the official SDK's own validator,
 * `validateRequest`, against the gateway's PUBLIC URL: behind Cloud Run the container sees http and an internal
 * host, not the https URL Twilio signed.
 *
 * Cold start: `twilio/lib/webhooks/webhooks.js` is the validator alone (Node's crypto, url and querystring; no
 * REST client, no product domains): 7.2 KB bundled. Evaluating it after express, node:crypto and libphonenumber
 * (all loaded by the gateway anyway) measured +0.4 ms on Node 20.20.2 and +0.3 ms on Deno 2.9.6 (median of 21
 * fresh processes each, esbuild bundle as `npm run build` makes it, 2-core EPYC VM shared with other builds);
 * the package root (`import twilio from "twilio"`, which re-exports the same function) costs ~120 ms because it
 * loads all ~40 product domains. So: a static import of the slim path. Loading it lazily would save <0.5 ms
 * once and add a chunk and an await to every callback.
 *
 * Replays: Twilio's callbacks carry no timestamp. The gateway puts one in: each send's StatusCallback URL ends in
 * `?sent=<epoch ms>` (twilioStatusCallbackUrl), and since the signature covers the whole URL, that stamp is as
 * authentic as the rest. A callback older than the receipt window (default 1 h after the send) is refused, and
 * within it each (MessageSid, MessageStatus) is accepted once. Twilio itself re-sends a callback only after a 5xx
 * or a timeout, so refusing the second copy of one we answered loses nothing. The stamp also gives
 * `deliverySeconds` (send → `delivered` callback) without a store.
 */
import { validateRequest } from "twilio/lib/webhooks/webhooks.js";
import { GatewayError } from "../errors.ts";
import type { ReceiptStatus } from "../logEvents.ts";
import { describeDestination, RECEIPTS_PREFIX, type CallbackResult } from "./receipt.ts";
import type { ReplayCache } from "./replayCache.ts";

export const TWILIO_RECEIPT_PATH = `${RECEIPTS_PREFIX}/twilio`;
/** The query parameter carrying the send time (epoch milliseconds) in our StatusCallback URLs. */
export const SENT_AT_PARAM = "sent";
/** Receipts later than this after the send are refused (and replays within it are caught). */
export const DEFAULT_TWILIO_RECEIPT_WINDOW_MS = 60 * 60 * 1000;
/** Our instances' clocks may differ a little: a stamp up to this far in the future is still ours. */
const CLOCK_SKEW_MS = 5 * 60 * 1000;

/**
 * Twilio's MessageStatus values (the Message resource's `status` enum) onto the gateway's receipt statuses.
 * `canceled` only happens to scheduled messages, which the gateway never sends; `read` and
 * `partially_delivered` belong to other channels. Anything not listed is acknowledged and not logged.
 */
const STATUS: Record<string, ReceiptStatus> = {
  accepted: "queued",
  scheduled: "queued",
  queued: "queued",
  sending: "queued",
  sent: "sent",
  delivered: "delivered",
  undelivered: "undelivered",
  failed: "failed",
  canceled: "failed",
};

export type ReceiptAvailability = { enabled: true } | { enabled: false; reason: string };

/**
 * Whether this deployment can verify Twilio's callbacks — for the startup log. Twilio signs them with the
 * account's auth token only; an API key secret cannot check the signature, so with API-key credentials receipts
 * stay off rather than accepting callbacks nobody can authenticate.
 */
export function twilioReceiptAvailability(
  auth: { kind: "authToken" } | { kind: "apiKey" },
  publicBaseUrl: string | undefined,
): ReceiptAvailability {
  if (auth.kind !== "authToken") {
    return {
      enabled: false,
      reason:
        "Twilio delivery receipts are off: Twilio signs callbacks with the account auth token, and the gateway is " +
        "configured with an API key (set TWILIO_AUTH_TOKEN instead to verify them)",
    };
  }
  if (publicBaseUrl === undefined) {
    return {
      enabled: false,
      reason: "Twilio delivery receipts are off: no public base URL (PUBLIC_BASE_URL) to give Twilio as StatusCallback",
    };
  }
  return { enabled: true };
}

/** The StatusCallback URL for one send: our public receipt endpoint, stamped with the send time. */
export function twilioStatusCallbackUrl(publicBaseUrl: string, sentAtMs: number): string {
  return `${publicBaseUrl.replace(/\/+$/, "")}${TWILIO_RECEIPT_PATH}?${SENT_AT_PARAM}=${Math.floor(sentAtMs)}`;
}

export interface TwilioCallback {
  /** X-Twilio-Signature, if sent. */
  signature: string | undefined;
  /** The URL as Twilio called it: the public base URL followed by the request's path and query. */
  url: string;
  /** The raw application/x-www-form-urlencoded body. */
  body: string;
}

export interface TwilioReceiptVerifier {
  /** Verifies and normalises one callback; throws a GatewayError (4xx) for anything it cannot trust. */
  handle(callback: TwilioCallback): CallbackResult;
}

/** Form fields as the validator wants them: repeated names become arrays (it sorts and joins those itself). */
function formParams(body: string): Record<string, string | string[]> {
  const params: Record<string, string | string[]> = {};
  for (const [key, value] of new URLSearchParams(body)) {
    const seen = params[key];
    params[key] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value];
  }
  return params;
}

function single(params: Record<string, string | string[]>, name: string): string | undefined {
  const value = params[name];
  return typeof value === "string" && value !== "" ? value : undefined;
}

export function createTwilioReceiptVerifier(options: {
  authToken: string;
  now: () => number;
  replays: ReplayCache;
  windowMs?: number;
}): TwilioReceiptVerifier {
  const { authToken, now, replays, windowMs = DEFAULT_TWILIO_RECEIPT_WINDOW_MS } = options;

  return {
    handle({ signature, url, body }) {
      if (!signature) throw new GatewayError("signature_missing", "X-Twilio-Signature header is required");
      const params = formParams(body);
      if (!validateRequest(authToken, signature, url, params)) {
        throw new GatewayError("signature_invalid", "X-Twilio-Signature does not match this URL and body");
      }

      const stamp = new URL(url).searchParams.get(SENT_AT_PARAM);
      const sentAt = stamp !== null && /^\d{1,15}$/.test(stamp) ? Number(stamp) : undefined;
      if (sentAt === undefined) {
        throw new GatewayError("invalid_request", `callback URL lacks the gateway's ${SENT_AT_PARAM} stamp`);
      }
      const at = now();
      if (at - sentAt > windowMs || sentAt - at > CLOCK_SKEW_MS) {
        throw new GatewayError("receipt_expired", "callback is outside the receipt window of its send");
      }

      const sid = single(params, "MessageSid");
      const rawStatus = single(params, "MessageStatus");
      if (sid === undefined || rawStatus === undefined) {
        throw new GatewayError("invalid_request", "MessageSid and MessageStatus are required");
      }
      const status = STATUS[rawStatus];
      if (status === undefined) return { kind: "ignored", reason: `status ${rawStatus} is not tracked` };
      // Same (message, status) twice within its window: a replay. Expires when the stamp would be refused anyway.
      if (!replays.firstSeen(`twilio\n${sid}\n${rawStatus}`, sentAt + windowMs)) {
        throw new GatewayError("receipt_replayed", "this callback was already received");
      }

      const errorCode = single(params, "ErrorCode");
      return {
        kind: "receipt",
        receipt: {
          provider: "twilio",
          providerMessageId: sid,
          status,
          providerErrorCode: errorCode === "0" ? undefined : errorCode,
          deliverySeconds: status === "delivered" ? Math.max(0, at - sentAt) / 1000 : undefined,
          ...describeDestination(single(params, "To")),
        },
      };
    },
  };
}
