import { randomUUID } from "node:crypto";
import {
  answerTransportFault,
  bearerToken,
  faultQueue,
  startFakeHttp,
  type FakeHttpOptions,
  type TransportFault,
} from "./fakeHttp.ts";
import { generateTelnyxSigningKey, telnyxSignatureHeaders, type TelnyxSigningKey } from "./signing.ts";

/**
 * A local stand-in for Telnyx's `POST /v2/messages` (developers.telnyx.com, messaging "send-message"): Bearer key,
 * JSON `{from, to, text, messaging_profile_id}`, `200 {"data": {"id", …}}`, errors as
 * `{"errors": [{"code", "title", "detail"}]}`. It records every request and injects the faults the gateway must
 * classify: each error class, rate limits, hangs, resets, unparseable answers, redirects.
 *
 * A message that carries `webhook_url` also gets its delivery webhooks, as Telnyx sends them after the 200:
 * `message.sent`, then `message.finalized` with the final status (`delivered` unless `receiptOutcome` says
 * otherwise), each signed with the fake's Ed25519 key (signing.ts; `publicKey` is what TELNYX_PUBLIC_KEY takes).
 * Without `webhook_url` nothing is sent, as before.
 */

export type TelnyxFault =
  | TransportFault
  /** A Telnyx error document, e.g. 409/40300 (opted out), 400/40305 (invalid from), 401/10009, 500/10007. */
  | { kind: "error"; status: number; code: string; delayMs?: number }
  /** 429 / 10011, optionally with Retry-After (seconds). */
  | { kind: "rateLimit"; retryAfterSeconds?: number }
  /** A 200 whose JSON has no data.id. */
  | { kind: "noId" };

export interface TelnyxRequest {
  to: string | null;
  from: string | null;
  text: string | null;
  messagingProfileId: string | null;
  webhookUrl: string | null;
  /** Whether the Bearer key matched (the key itself is not kept). */
  authorized: boolean;
  answeredWith: number | "hang" | "reset";
}

export interface FakeTelnyx {
  url: string;
  port: number;
  /** Every `POST /v2/messages` that reached the fake, in order, faults included. */
  readonly received: TelnyxRequest[];
  /** The base64 Ed25519 public key its webhooks verify with: the gateway's TELNYX_PUBLIC_KEY. */
  readonly publicKey: string;
  /** Every webhook the fake POSTed, in order, with the answer it got. */
  readonly webhooks: TelnyxWebhookRecord[];
  /** Resolves once every webhook started so far has been answered (or failed). */
  webhooksSettled(): Promise<void>;
  /** The final status of the next messages' `message.finalized` (default `delivered`). */
  receiptOutcome(outcome: TelnyxReceiptOutcome): void;
  readonly connections: number;
  enqueue(...faults: TelnyxFault[]): void;
  always(fault: TelnyxFault | undefined): void;
  reset(): void;
  close(): Promise<void>;
}

export interface FakeTelnyxOptions extends FakeHttpOptions {
  /** The key the fake accepts; any Bearer key when unset. */
  apiKey?: string;
  /** Signs the webhooks; default a fresh key pair. */
  signingKey?: TelnyxSigningKey;
  /** Wait before each webhook (default 0). */
  webhookDelayMs?: number;
}

/** `to[].status` of the final webhook, with Telnyx's error code for a failure. */
export type TelnyxReceiptOutcome =
  | { status: "delivered" | "delivery_unconfirmed" }
  | { status: "delivery_failed" | "sending_failed"; errorCode: string };

export interface TelnyxWebhookRecord {
  url: string;
  eventType: string;
  messageId: string;
  status: string;
  /** The gateway's HTTP status, or "error" when the POST itself failed. */
  answeredWith: number | "error";
}

const TITLES: Record<string, string> = {
  "10004": "Missing required parameter",
  "10007": "Unexpected error",
  "10009": "Authentication failed",
  "10011": "Too many requests",
  "40300": "Blocked due to STOP message",
  "40305": "Invalid 'from' address",
  "40310": "Invalid 'to' address",
};

function telnyxError(code: string, detail?: string) {
  return { errors: [{ code, title: TITLES[code] ?? "Error", detail: detail ?? TITLES[code] ?? "Error" }] };
}

const str = (v: unknown): string | null => (typeof v === "string" ? v : null);

type Message = Record<string, unknown> & { id: string; to: { phone_number: string | null; status: string }[] };

export async function startFakeTelnyx(options: FakeTelnyxOptions = {}): Promise<FakeTelnyx> {
  const received: TelnyxRequest[] = [];
  const faults = faultQueue<TelnyxFault>();
  const key = options.signingKey ?? generateTelnyxSigningKey();
  const webhooks: TelnyxWebhookRecord[] = [];
  const pending = new Set<Promise<void>>();
  let outcome: TelnyxReceiptOutcome = { status: "delivered" };

  /** Telnyx's webhook envelope (developers.telnyx.com, messaging "receiving webhooks"), text included as Telnyx does. */
  async function sendWebhooks(url: string, message: Message, receivedAt: Date): Promise<void> {
    const final = outcome;
    const sentAt = new Date(Math.max(Date.now(), receivedAt.getTime() + 1));
    for (const [eventType, status] of [["message.sent", "sent"], ["message.finalized", final.status]] as const) {
      if (options.webhookDelayMs) await new Promise((resolve) => setTimeout(resolve, options.webhookDelayMs));
      const now = new Date(Math.max(Date.now(), sentAt.getTime() + (eventType === "message.finalized" ? 1 : 0)));
      const body = JSON.stringify({
        data: {
          event_type: eventType,
          id: randomUUID(),
          occurred_at: now.toISOString(),
          payload: {
            ...message,
            to: message.to.map((to) => ({ ...to, status })),
            errors: "errorCode" in final && status === final.status ? [{ code: final.errorCode, title: "Delivery failed" }] : [],
            received_at: receivedAt.toISOString(),
            sent_at: sentAt.toISOString(),
            completed_at: eventType === "message.finalized" ? now.toISOString() : null,
          },
          record_type: "event",
        },
        meta: { attempt: 1, delivered_to: url },
      });
      const record: TelnyxWebhookRecord = { url, eventType, messageId: message.id, status, answeredWith: "error" };
      webhooks.push(record);
      try {
        const res = await fetch(url, {
          method: "POST",
          headers: { "Content-Type": "application/json", ...telnyxSignatureHeaders(key, body, now.getTime() / 1000) },
          body,
        });
        await res.body?.cancel();
        record.answeredWith = res.status;
      } catch {
        return; // the gateway is gone: Telnyx would retry, then try the failover URL; the emulator gives up
      }
    }
  }

  const server = await startFakeHttp(options, (req, res) => {
    if (req.method !== "POST" || req.path !== "/v2/messages") return res.json(404, telnyxError("10005", "Resource not found"));
    const key = bearerToken(req.headers);
    const authorized = key !== undefined && (options.apiKey === undefined || key === options.apiKey);
    const body = (typeof req.json === "object" && req.json !== null ? req.json : {}) as Record<string, unknown>;
    const record = (answeredWith: TelnyxRequest["answeredWith"]) =>
      received.push({
        to: str(body.to),
        from: str(body.from),
        text: str(body.text),
        messagingProfileId: str(body.messaging_profile_id),
        webhookUrl: str(body.webhook_url),
        authorized,
        answeredWith,
      });
    if (!authorized) {
      record(401);
      return res.json(401, telnyxError("10009"));
    }

    const fault = faults.next();
    if (fault && answerTransportFault(fault, res, 200)) {
      return record(fault.kind === "hang" ? "hang" : fault.kind === "reset" ? "reset" : fault.kind === "redirect" ? fault.status : 200);
    }
    switch (fault?.kind) {
      case "error":
        record(fault.status);
        // A detail that quotes the numbers, as Telnyx's does: the gateway must never log it.
        return res.json(
          fault.status,
          telnyxError(fault.code, `Messages cannot be sent from ${str(body.from)} to ${str(body.to)}`),
          {},
          fault.delayMs,
        );
      case "rateLimit":
        record(429);
        return res.json(
          429,
          telnyxError("10011"),
          fault.retryAfterSeconds === undefined ? {} : { "Retry-After": String(fault.retryAfterSeconds) },
        );
      case "noId":
        record(200);
        return res.json(200, { data: { record_type: "message" } });
      default:
        break;
    }
    if (!str(body.to) || !str(body.text) || !(str(body.from) || str(body.messaging_profile_id))) {
      record(400);
      return res.json(400, telnyxError("10004", "'to', 'text' and 'from' or 'messaging_profile_id' are required"));
    }
    record(200);
    const receivedAt = new Date();
    const now = receivedAt.toISOString();
    const message: Message = {
      record_type: "message",
      direction: "outbound",
      id: randomUUID(),
      type: "SMS",
      messaging_profile_id: str(body.messaging_profile_id),
      from: { phone_number: str(body.from) },
      to: [{ phone_number: str(body.to), status: "queued" }],
      text: str(body.text),
      parts: 1,
      encoding: "GSM-7",
      created_at: now,
      updated_at: now,
    };
    res.json(200, { data: message });
    const webhookUrl = str(body.webhook_url);
    if (webhookUrl) {
      // After the 200 is on the wire, as with Telnyx: a webhook never overtakes the answer to its send.
      const sending = res
        .closed()
        .then(() => sendWebhooks(webhookUrl, message, receivedAt))
        .finally(() => pending.delete(sending));
      pending.add(sending);
    }
  });

  return {
    url: server.url,
    port: server.port,
    received,
    publicKey: key.publicKeyBase64,
    webhooks,
    webhooksSettled: async () => {
      while (pending.size > 0) await Promise.all([...pending]);
    },
    receiptOutcome: (next) => void (outcome = next),
    get connections() {
      return server.connections;
    },
    enqueue: (...f) => faults.enqueue(...f),
    always: (f) => faults.always(f),
    reset() {
      received.length = 0;
      webhooks.length = 0;
      outcome = { status: "delivered" };
      faults.clear();
    },
    close: () => server.close(),
  };
}
