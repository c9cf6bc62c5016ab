import { randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { twilioSignature } from "./signing.ts";

/**
 * A local stand-in for Twilio's Messages API (`POST /2010-04-01/Accounts/{Sid}/Messages.json`) that records
 * what it receives and injects the faults a gateway must survive. Prism with Twilio's OpenAPI spec checks
 * request shape; this fake checks behaviour: retries, deadlines, and how many sends actually arrived.
 *
 * A send that carries `StatusCallback` also gets its delivery receipts, as Twilio sends them: a signed
 * form POST to that URL for `sent`, then one for the final status (`delivered` unless `receiptOutcome` says
 * otherwise), after the 201. Without `StatusCallback` nothing is sent, as before.
 */

export type TwilioFault =
  /** A Twilio error document, e.g. 400/21211 (invalid To) or 500. */
  | { kind: "error"; status: number; code: number; message?: string }
  /** 429 / 20429, optionally with Retry-After (seconds). */
  | { kind: "rateLimit"; retryAfterSeconds?: number }
  /** Accept the request and never answer. */
  | { kind: "hang" }
  /** Destroy the connection after reading the request: the outcome is unknown to the client. */
  | { kind: "reset" }
  /** A 201 whose body is not JSON. */
  | { kind: "invalidJson" }
  /** A 201 Message resource whose `sid` is null: an answer without a usable id. */
  | { kind: "missingSid" }
  /** A 201, `ms` after the request arrived (an answer that may come after the client's deadline). */
  | { kind: "slow"; ms: number }
  /** Held until `release()`, then a 201: the test decides when the answer comes. */
  | { kind: "hold" }
  /** A redirect (307/308) to `location`: a client must not follow it with the credentials. */
  | { kind: "redirect"; status: 301 | 302 | 303 | 307 | 308; location: string };

export interface ReceivedSms {
  accountSid: string;
  to: string | null;
  from: string | null;
  messagingServiceSid: string | null;
  body: string | null;
  /** The Basic-auth username the client presented (account SID or API key SID); the password is not kept. */
  username: string | null;
  statusCallback: string | null;
  validityPeriod: string | null;
  answeredWith: number | "hang" | "reset" | "held";
}

export interface FakeTwilio {
  url: string;
  port: number;
  /** Every Messages request that reached the fake, in order, faults included. */
  readonly received: ReceivedSms[];
  /** TCP connections accepted since start (a keep-alive pool reuses them). */
  readonly connections: number;
  /** The most TCP connections open at the same time since start (a pool's size bounds it). */
  readonly peakConnections: number;
  /** Every status callback the fake POSTed, in order, with the answer it got. */
  readonly callbacks: StatusCallbackRecord[];
  /** Resolves once every status callback started so far has been answered (or failed). */
  callbacksSettled(): Promise<void>;
  /** The final status of the next sends' receipts (default `delivered`). */
  receiptOutcome(outcome: ReceiptOutcome): void;
  /** Queue faults for the next requests, one each; then requests succeed (or meet `always`). */
  enqueue(...faults: TwilioFault[]): void;
  /** A fault for every request once the queue is empty; undefined to succeed. */
  always(fault: TwilioFault | undefined): void;
  /** Answers every request held by a `hold` fault with a 201, now. */
  release(): void;
  /** Changes the delay before every later answer (the bench alternates an instant and a 100 ms Twilio). */
  setLatency(ms: number): void;
  reset(): void;
  close(): Promise<void>;
}

export interface FakeTwilioOptions {
  port?: number;
  host?: string;
  /** Added before every answer, to model Twilio's own latency (bench). */
  latencyMs?: number;
  /**
   * The account auth token that signs status callbacks. Default: the Basic-auth password of the send when its
   * username is the account SID (which is then the auth token); a send authenticated with an API key gets
   * callbacks only when this is set — as on Twilio, where the auth token signs them whatever the caller used.
   */
  authToken?: string;
  /** Wait before each status callback (default 0). */
  callbackDelayMs?: number;
}

export type ReceiptOutcome = { status: "delivered" } | { status: "undelivered" | "failed"; errorCode: number };

export interface StatusCallbackRecord {
  url: string;
  messageSid: string;
  status: string;
  /** The gateway's HTTP status, or "error" when the POST itself failed. */
  answeredWith: number | "error";
}

const MESSAGES_PATH = /^\/2010-04-01\/Accounts\/(AC[0-9a-fA-F]{32})\/Messages\.json$/;

function basicAuth(header: string | undefined): { username: string; password: string } | null {
  if (!header?.startsWith("Basic ")) return null;
  const decoded = Buffer.from(header.slice(6), "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  return colon > 0 && colon < decoded.length - 1 ? { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) } : null;
}

function messageResource(accountSid: string, form: URLSearchParams) {
  const sid = `SM${randomBytes(16).toString("hex")}`;
  const now = new Date().toUTCString();
  return {
    sid,
    account_sid: accountSid,
    messaging_service_sid: form.get("MessagingServiceSid"),
    to: form.get("To"),
    from: form.get("From"),
    body: form.get("Body"),
    status: form.get("MessagingServiceSid") ? "accepted" : "queued",
    num_segments: "1",
    direction: "outbound-api",
    api_version: "2010-04-01",
    price: null,
    price_unit: "USD",
    error_code: null,
    error_message: null,
    date_created: now,
    date_updated: now,
    date_sent: null,
    uri: `/2010-04-01/Accounts/${accountSid}/Messages/${sid}.json`,
    subresource_uris: { media: `/2010-04-01/Accounts/${accountSid}/Messages/${sid}/Media.json` },
  };
}

function twilioError(status: number, code: number, message: string) {
  return { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status };
}

export async function startFakeTwilio(options: FakeTwilioOptions = {}): Promise<FakeTwilio> {
  const received: ReceivedSms[] = [];
  const queue: TwilioFault[] = [];
  let standing: TwilioFault | undefined;
  let latencyMs = options.latencyMs ?? 0;
  let connections = 0;
  let open = 0;
  let peakConnections = 0;
  const hanging = new Set<http.ServerResponse>();
  const callbacks: StatusCallbackRecord[] = [];
  const pendingCallbacks = new Set<Promise<void>>();
  let outcome: ReceiptOutcome = { status: "delivered" };

  /** Twilio's status callback parameters (a subset of what it sends; it may add more without notice). */
  async function sendReceipts(url: string, authToken: string, message: ReturnType<typeof messageResource>): Promise<void> {
    const final = outcome;
    for (const status of ["sent", final.status]) {
      if (options.callbackDelayMs) await new Promise((resolve) => setTimeout(resolve, options.callbackDelayMs));
      const params: Record<string, string> = {
        AccountSid: message.account_sid,
        ApiVersion: "2010-04-01",
        From: message.from ?? "",
        MessageSid: message.sid,
        MessageStatus: status,
        SmsSid: message.sid,
        SmsStatus: status,
        To: message.to ?? "",
        ...(message.messaging_service_sid && { MessagingServiceSid: message.messaging_service_sid }),
        ...(status === final.status && "errorCode" in final && { ErrorCode: String(final.errorCode) }),
      };
      const record: StatusCallbackRecord = { url, messageSid: message.sid, status, answeredWith: "error" };
      callbacks.push(record);
      try {
        const res = await fetch(url, {
          method: "POST",
          headers: {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": twilioSignature(authToken, url, params),
          },
          body: new URLSearchParams(params).toString(),
        });
        await res.body?.cancel();
        record.answeredWith = res.status;
      } catch {
        return; // the gateway is gone: Twilio would retry later; the emulator gives up
      }
    }
  }
  const held: (() => void)[] = [];

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const json = (status: number, body: unknown, headers: Record<string, string> = {}) => {
        const reply = () => {
          res.writeHead(status, { "Content-Type": "application/json", ...headers });
          res.end(JSON.stringify(body));
        };
        if (latencyMs) setTimeout(reply, latencyMs);
        else reply();
      };
      const match = MESSAGES_PATH.exec(req.url ?? "");
      if (req.method !== "POST" || !match) return json(404, twilioError(404, 20404, "The requested resource was not found"));
      const credentials = basicAuth(req.headers.authorization);
      if (!credentials) return json(401, twilioError(401, 20003, "Authenticate"));
      const { username } = credentials;

      const form = new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
      const fault = queue.shift() ?? standing;
      const record = (answeredWith: ReceivedSms["answeredWith"]) =>
        received.push({
          accountSid: match[1]!,
          to: form.get("To"),
          from: form.get("From"),
          messagingServiceSid: form.get("MessagingServiceSid"),
          body: form.get("Body"),
          username,
          statusCallback: form.get("StatusCallback"),
          validityPeriod: form.get("ValidityPeriod"),
          answeredWith,
        });

      switch (fault?.kind) {
        case "hang":
          record("hang");
          hanging.add(res);
          return;
        case "reset":
          record("reset");
          req.socket.destroy();
          return;
        case "invalidJson":
          record(201);
          res.writeHead(201, { "Content-Type": "application/json" });
          res.end("<html>not twilio</html>");
          return;
        case "missingSid":
          record(201);
          return json(201, { ...messageResource(match[1]!, form), sid: null });
        case "slow":
          record(201);
          setTimeout(() => {
            if (!res.destroyed) json(201, messageResource(match[1]!, form));
          }, fault.ms);
          return;
        case "hold":
          record("held");
          hanging.add(res);
          held.push(() => {
            hanging.delete(res);
            if (!res.destroyed) json(201, messageResource(match[1]!, form));
          });
          return;
        case "redirect":
          record(fault.status);
          res.writeHead(fault.status, { Location: fault.location, "Content-Type": "application/json" });
          res.end(JSON.stringify({ message: "moved" }));
          return;
        case "rateLimit":
          record(429);
          return json(
            429,
            twilioError(429, 20429, "Too Many Requests"),
            fault.retryAfterSeconds === undefined ? {} : { "Retry-After": String(fault.retryAfterSeconds) },
          );
        case "error":
          record(fault.status);
          return json(fault.status, twilioError(fault.status, fault.code, fault.message ?? `Twilio error ${fault.code}`));
        default:
          if (!form.get("To") || !form.get("Body") || !(form.get("From") || form.get("MessagingServiceSid"))) {
            record(400);
            return json(400, twilioError(400, 21604, "A 'To', a 'Body' and a 'From' or 'MessagingServiceSid' are required"));
          }
          record(201);
          const message = messageResource(match[1]!, form);
          json(201, message);
          const callbackUrl = form.get("StatusCallback");
          const token = options.authToken ?? (username === match[1] ? credentials.password : undefined);
          if (callbackUrl && token) {
            // After the 201 is on the wire, as with Twilio: a receipt never overtakes the answer to its send.
            const sending = new Promise<void>((resolve) => res.once("close", resolve))
              .then(() => sendReceipts(callbackUrl, token, message))
              .finally(() => pendingCallbacks.delete(sending));
            pendingCallbacks.add(sending);
          }
          return;
      }
    });
  });
  server.on("connection", (socket) => {
    connections++;
    peakConnections = Math.max(peakConnections, ++open);
    socket.once("close", () => open--);
  });

  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    received,
    callbacks,
    callbacksSettled: async () => {
      while (pendingCallbacks.size > 0) await Promise.all([...pendingCallbacks]);
    },
    receiptOutcome: (next) => void (outcome = next),
    get connections() {
      return connections;
    },
    get peakConnections() {
      return peakConnections;
    },
    enqueue: (...faults) => void queue.push(...faults),
    always: (fault) => void (standing = fault),
    release() {
      for (const answer of held.splice(0)) answer();
    },
    setLatency: (ms) => void (latencyMs = ms),
    reset() {
      received.length = 0;
      callbacks.length = 0;
      outcome = { status: "delivered" };
      queue.length = 0;
      standing = undefined;
      held.length = 0;
    },
    close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections?.();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
