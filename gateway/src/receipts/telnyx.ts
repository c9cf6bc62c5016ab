/**
 * Telnyx delivery receipts: the `message.sent` and `message.finalized` webhooks of an outbound message
 * (https://developers.telnyx.com/docs/messaging/messages/receiving-webhooks).
 *
 * Authenticity: `telnyx-signature-ed25519` is an Ed25519 signature (base64, 64 bytes) over
 * `{telnyx-timestamp}|{raw body}`, verified with the account's public key (base64, 32 bytes, Mission Control →
 * Keys & Credentials → Public Key) — the same checks as Telnyx's own SDK (team-telnyx/telnyx-node
 * src/lib/webhooks.ts: raw 32-byte key, 64-byte signature, |now − timestamp| ≤ 300 s in both directions). Done
 * with node:crypto's Ed25519, which Node 20 and Deno 2 both implement (gateway/test/deno proves the latter),
 * instead of pulling in the Telnyx SDK for one function.
 *
 * Replays: inside the 5-minute window each webhook event id (`data.id`, the same across Telnyx's own retries of
 * one event) is accepted once per instance (replayCache.ts); outside it the timestamp refuses them.
 */
import { createPublicKey, verify, type KeyObject } from "node:crypto";
import { GatewayError } from "../errors.ts";
import type { ReceiptStatus } from "../logEvents.ts";
import { describeDestination, RECEIPTS_PREFIX, type CallbackResult } from "./receipt.ts";
import type { ReplayCache } from "./replayCache.ts";

export const TELNYX_RECEIPT_PATH = `${RECEIPTS_PREFIX}/telnyx`;
/** Telnyx's documented tolerance, applied both ways (a timestamp from the future is as suspect as an old one). */
export const TELNYX_TOLERANCE_S = 300;

/**
 * `to[].status` of an outbound message (Telnyx's OutboundMessagePayload, e.g. team-telnyx/telnyx-php
 * src/Messages/OutboundMessagePayload/To/Status.php) onto the gateway's statuses. `delivery_failed`: the carrier
 * reported non-delivery; `sending_failed`: Telnyx could not hand it to a carrier (or it left the queue too late,
 * past `valid_until`); `delivery_unconfirmed`: final, but the carrier sends no delivery reports.
 */
const STATUS: Record<string, ReceiptStatus> = {
  queued: "queued",
  sending: "queued",
  sent: "sent",
  delivered: "delivered",
  delivery_failed: "undelivered",
  sending_failed: "failed",
  delivery_unconfirmed: "unconfirmed",
};
const RECEIPT_EVENTS = new Set(["message.sent", "message.finalized"]);

/** SubjectPublicKeyInfo prefix for a raw Ed25519 key (RFC 8410 §4): node:crypto imports keys as SPKI. */
const ED25519_SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex");
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Why TELNYX_PUBLIC_KEY cannot be used, or undefined when it can (for config.ts: names no value). */
export function telnyxPublicKeyProblem(text: string): string | undefined {
  const trimmed = text.trim();
  if (!BASE64.test(trimmed) || Buffer.from(trimmed, "base64").length !== 32) {
    return "TELNYX_PUBLIC_KEY must be the base64 Ed25519 public key from Telnyx (32 bytes, 44 characters)";
  }
  return undefined;
}

export function parseTelnyxPublicKey(text: string): KeyObject {
  const problem = telnyxPublicKeyProblem(text);
  if (problem) throw new Error(problem);
  const raw = Buffer.from(text.trim(), "base64");
  return createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: "der", type: "spki" });
}

export interface TelnyxCallback {
  signature: string | undefined;
  timestamp: string | undefined;
  /** The body exactly as received: the signature covers these bytes, not a re-serialised JSON. */
  body: Buffer;
}

export interface TelnyxReceiptVerifier {
  handle(callback: TelnyxCallback): CallbackResult;
}

interface TelnyxEvent {
  data?: {
    id?: unknown;
    event_type?: unknown;
    payload?: {
      id?: unknown;
      direction?: unknown;
      to?: { phone_number?: unknown; status?: unknown }[];
      errors?: { code?: unknown }[];
      received_at?: unknown;
      completed_at?: unknown;
    };
  };
}

function decodeSignature(header: string): Buffer | undefined {
  if (!BASE64.test(header)) return undefined;
  const bytes = Buffer.from(header, "base64");
  return bytes.length === 64 ? bytes : undefined;
}

/** Seconds between two ISO timestamps from the same payload (Telnyx's clock on both ends, so no skew). */
function secondsBetween(from: unknown, to: unknown): number | undefined {
  if (typeof from !== "string" || typeof to !== "string") return undefined;
  const ms = Date.parse(to) - Date.parse(from);
  return Number.isFinite(ms) && ms >= 0 ? ms / 1000 : undefined;
}

export function createTelnyxReceiptVerifier(options: {
  publicKey: KeyObject;
  now: () => number;
  replays: ReplayCache;
}): TelnyxReceiptVerifier {
  const { publicKey, now, replays } = options;

  return {
    handle({ signature, timestamp, body }) {
      if (!signature || !timestamp) {
        throw new GatewayError("signature_missing", "telnyx-signature-ed25519 and telnyx-timestamp headers are required");
      }
      const signatureBytes = decodeSignature(signature);
      if (!/^\d{1,12}$/.test(timestamp) || signatureBytes === undefined) {
        throw new GatewayError("signature_invalid", "telnyx-signature-ed25519 or telnyx-timestamp is malformed");
      }
      const signed = Buffer.concat([Buffer.from(`${timestamp}|`, "utf8"), body]);
      if (!verify(null, signed, publicKey, signatureBytes)) {
        throw new GatewayError("signature_invalid", "telnyx-signature-ed25519 does not match the timestamp and body");
      }
      const signedAt = Number(timestamp);
      if (Math.abs(now() / 1000 - signedAt) > TELNYX_TOLERANCE_S) {
        throw new GatewayError("receipt_expired", `telnyx-timestamp is more than ${TELNYX_TOLERANCE_S} s off`);
      }

      let event: TelnyxEvent;
      try {
        event = JSON.parse(body.toString("utf8")) as TelnyxEvent;
      } catch {
        throw new GatewayError("invalid_request", "webhook body is not valid JSON");
      }
      const data = typeof event === "object" && event !== null ? event.data : undefined;
      if (typeof data?.id !== "string" || typeof data.event_type !== "string" || typeof data.payload !== "object") {
        throw new GatewayError("invalid_request", "webhook body lacks data.id, data.event_type or data.payload");
      }
      // Inbound messages (their text is a user's) and other products' events may share the URL: acknowledged,
      // never logged.
      if (!RECEIPT_EVENTS.has(data.event_type)) return { kind: "ignored", reason: `event ${data.event_type} is not a receipt` };
      const payload = data.payload ?? {};
      const to = Array.isArray(payload.to) ? payload.to[0] : undefined;
      if (payload.direction !== "outbound" || typeof payload.id !== "string" || typeof to?.status !== "string") {
        throw new GatewayError("invalid_request", "receipt lacks an outbound message id or recipient status");
      }
      const status = STATUS[to.status];
      if (status === undefined) return { kind: "ignored", reason: `status ${to.status} is not tracked` };
      // The same signed event is accepted until its timestamp leaves the window; remember it until then.
      if (!replays.firstSeen(`telnyx\n${data.id}`, (signedAt + TELNYX_TOLERANCE_S) * 1000)) {
        throw new GatewayError("receipt_replayed", "this webhook event was already received");
      }

      const code = Array.isArray(payload.errors) ? payload.errors[0]?.code : undefined;
      return {
        kind: "receipt",
        receipt: {
          provider: "telnyx",
          providerMessageId: payload.id,
          status,
          providerErrorCode: code === undefined || code === null ? undefined : String(code),
          // received_at: when Telnyx took our send request; completed_at: when the message reached its final state.
          deliverySeconds: status === "delivered" ? secondsBetween(payload.received_at, payload.completed_at) : undefined,
          ...describeDestination(typeof to.phone_number === "string" ? to.phone_number : undefined),
        },
      };
    },
  };
}
