import { randomUUID } from "node:crypto";
import {
  answerTransportFault,
  bearerToken,
  faultQueue,
  startFakeHttp,
  type FakeHttpOptions,
  type TransportFault,
} from "./fakeHttp.ts";

/**
 * A local stand-in for Telnyx's `POST /v2/messages` (developers.telnyx.com, messaging "send-message"): Bearer key,
 * JSON `{from, to, text, messaging_profile_id}`, `200 {"data": {"id", …}}`, errors as
 * `{"errors": [{"code", "title", "detail"}]}`. It records every request and injects the faults the gateway must
 * classify: each error class, rate limits, hangs, resets, unparseable answers, redirects.
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
  /** Whether the Bearer key matched (the key itself is not kept). */
  authorized: boolean;
  answeredWith: number | "hang" | "reset";
}

export interface FakeTelnyx {
  url: string;
  port: number;
  /** Every `POST /v2/messages` that reached the fake, in order, faults included. */
  readonly received: TelnyxRequest[];
  readonly connections: number;
  enqueue(...faults: TelnyxFault[]): void;
  always(fault: TelnyxFault | undefined): void;
  reset(): void;
  close(): Promise<void>;
}

export interface FakeTelnyxOptions extends FakeHttpOptions {
  /** The key the fake accepts; any Bearer key when unset. */
  apiKey?: string;
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

export async function startFakeTelnyx(options: FakeTelnyxOptions = {}): Promise<FakeTelnyx> {
  const received: TelnyxRequest[] = [];
  const faults = faultQueue<TelnyxFault>();

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
    const now = new Date().toISOString();
    return res.json(200, {
      data: {
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
      },
    });
  });

  return {
    url: server.url,
    port: server.port,
    received,
    get connections() {
      return server.connections;
    },
    enqueue: (...f) => faults.enqueue(...f),
    always: (f) => faults.always(f),
    reset() {
      received.length = 0;
      faults.clear();
    },
    close: () => server.close(),
  };
}
