import { randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { twilioSignature } from "./signing.ts";

/**
 * A local stand-in for Twilio's Messages API (`POST /2010-04-01/Accounts/{Sid}/Messages.json`) that records
 * what it receives and injects the faults a gateway must survive. Prism with Twilio's OpenAPI spec checks
 * request shape; this fake checks behaviour: retries, deadlines, and how many sends actually arrived.
 *
 * It also keeps the Messages it created — the SMS that would have gone out, including those whose answer a fault
 * lost — and serves them on `GET …/Messages.json` with the list's filters as Twilio applies them (see `listPage`),
 * so the gateway's look-up of an unknown outcome runs through the real SDK against it.
 *
 * A Message created from a send that carries `StatusCallback` also gets its delivery receipts, as Twilio sends
 * them: a signed form POST to that URL for `sent`, then one for the final status (`delivered` unless
 * `receiptOutcome` says otherwise), after the 201 — or, when the answer was lost (a reset, a hang), after the
 * connection is gone: Twilio took the message either way. Without `StatusCallback` nothing is sent, as before.
 */

export type TwilioFault =
  /**
   * A Twilio error document, e.g. 400/21211 (invalid To) or 500. `created`: Twilio created the Message anyway
   * (a 5xx after the send was taken: the SMS goes out and shows in the list); default false.
   */
  | { kind: "error"; status: number; code: number; message?: string; created?: boolean }
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

/** A Message the fake created: an SMS that went out (whatever became of the answer to its POST). */
export interface CreatedSms {
  sid: string;
  to: string | null;
  from: string | null;
  messagingServiceSid: string | null;
  body: string | null;
  /** Epoch ms. */
  createdAt: number;
}

/** One GET of the Messages list, with its query as received. */
export interface ListRequest {
  query: Record<string, string>;
  answeredWith: number;
}

export interface FakeTwilio {
  url: string;
  port: number;
  /** Every Messages request that reached the fake, in order, faults included. */
  readonly received: ReceivedSms[];
  /** Every Message created, in order: the SMS sent. A POST answered 500 or cut off may still have created one. */
  readonly created: readonly CreatedSms[];
  /** Every GET of the Messages list, in order. */
  readonly lists: ListRequest[];
  /** How long the next created Messages stay `queued` (no `date_sent`) before they count as sent; default 0. */
  setQueueMs(ms: number): void;
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
  /** How long a created Message stays `queued` with no `date_sent` (default 0: sent as soon as it is created). */
  queueMs?: number;
  /** false: never send status callbacks (the bench measures sends, not receipts). Default true. */
  statusCallbacks?: boolean;
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

interface StoredMessage {
  resource: ReturnType<typeof messageResource>;
  createdAt: number;
  /** When it leaves the queue: `date_sent` is set from then on. */
  sentAt: number;
}

/** The list's date filters compare GMT dates (`YYYY-MM-DD`); a full timestamp is cut to its GMT date. */
function filterDate(value: string): string | undefined {
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) return value;
  const t = /^\d{4}-\d{2}-\d{2}T/.test(value) ? Date.parse(value) : NaN;
  return Number.isNaN(t) ? undefined : new Date(t).toISOString().slice(0, 10);
}

const MAX_PAGE_SIZE = 1000;

/**
 * One page of `GET /2010-04-01/Accounts/{Sid}/Messages.json`, as Twilio's spec (twilio_api_v2010.json, ListMessage)
 * and docs define it: `To` and `From` match exactly; `DateSent` (that GMT date), `DateSent<` (on or before) and
 * `DateSent>` (on or after) compare the date of `date_sent`, so a Message still queued (no `date_sent`) matches
 * none of them; a value that is not a date is refused with 20001 "Invalid date value" (twilio/twilio-cli#99).
 * Newest first by `date_sent` (where Twilio puts queued Messages in an unfiltered list is not documented: first
 * here). `PageSize` 1–1000, default 50; `next_page_uri` carries `PageToken` (after this sid) and `Page`.
 */
function listPage(
  stored: readonly StoredMessage[],
  accountSid: string,
  query: URLSearchParams,
  now: number,
): { status: number; body: unknown } {
  const dates: [string, (day: string, wanted: string) => boolean][] = [
    ["DateSent", (day, wanted) => day === wanted],
    ["DateSent<", (day, wanted) => day <= wanted],
    ["DateSent>", (day, wanted) => day >= wanted],
  ];
  const checks: ((m: StoredMessage) => boolean)[] = [];
  for (const [name, compare] of dates) {
    const raw = query.get(name);
    if (raw === null) continue;
    const wanted = filterDate(raw);
    if (wanted === undefined) return { status: 400, body: twilioError(400, 20001, "Invalid date value") };
    checks.push((m) => now >= m.sentAt && compare(new Date(m.sentAt).toISOString().slice(0, 10), wanted));
  }
  const to = query.get("To");
  const from = query.get("From");
  if (to !== null) checks.push((m) => m.resource.to === to);
  if (from !== null) checks.push((m) => m.resource.from === from);
  const pageSize = Number(query.get("PageSize") ?? 50);
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_PAGE_SIZE) {
    return { status: 400, body: twilioError(400, 20001, `PageSize must be from 1 to ${MAX_PAGE_SIZE}`) };
  }
  const sentAtOf = (m: StoredMessage) => (now >= m.sentAt ? m.sentAt : Number.POSITIVE_INFINITY);
  const matching = stored
    .map((m, i) => ({ m, i }))
    .filter(({ m }) => checks.every((check) => check(m)))
    .sort((a, b) => sentAtOf(b.m) - sentAtOf(a.m) || b.m.createdAt - a.m.createdAt || b.i - a.i)
    .map(({ m }) => m);
  const token = query.get("PageToken");
  const pageNumber = Number(query.get("Page") ?? 0);
  const after = token?.startsWith("PA") ? matching.findIndex((m) => m.resource.sid === token.slice(2)) : -1;
  const start = after >= 0 ? after + 1 : Math.max(0, pageNumber) * pageSize;
  const slice = matching.slice(start, start + pageSize);
  const base = `/2010-04-01/Accounts/${accountSid}/Messages.json`;
  const filters = new URLSearchParams([...query].filter(([k]) => !["PageSize", "Page", "PageToken"].includes(k)));
  const uri = (page: number, extra: Record<string, string> = {}) =>
    `${base}?${new URLSearchParams([...filters, ["PageSize", String(pageSize)], ["Page", String(page)], ...Object.entries(extra)])}`;
  const page = Math.floor(start / pageSize);
  const more = start + pageSize < matching.length;
  return {
    status: 200,
    body: {
      messages: slice.map((m) => ({
        ...m.resource,
        ...(now >= m.sentAt && { status: "sent", date_sent: new Date(m.sentAt).toUTCString(), date_updated: new Date(m.sentAt).toUTCString() }),
      })),
      start,
      end: start + Math.max(0, slice.length - 1),
      page,
      page_size: pageSize,
      uri: uri(page),
      first_page_uri: uri(0),
      previous_page_uri: page > 0 ? uri(page - 1) : null,
      next_page_uri: more ? uri(page + 1, { PageToken: `PA${slice.at(-1)!.resource.sid}` }) : null,
    },
  };
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
  const stored: StoredMessage[] = [];
  const lists: ListRequest[] = [];
  let queueMs = options.queueMs ?? 0;
  /** A Message that went out, whatever the answer to its POST becomes. */
  function create(accountSid: string, form: URLSearchParams, message = messageResource(accountSid, form)) {
    const createdAt = Date.now();
    stored.push({ resource: message, createdAt, sentAt: createdAt + queueMs });
    return message;
  }

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
      const url = new URL(req.url ?? "/", "http://fake");
      const match = MESSAGES_PATH.exec(url.pathname);
      if ((req.method !== "POST" && req.method !== "GET") || !match) {
        return json(404, twilioError(404, 20404, "The requested resource was not found"));
      }
      const credentials = basicAuth(req.headers.authorization);
      if (!credentials) return json(401, twilioError(401, 20003, "Authenticate"));
      const { username } = credentials;
      if (req.method === "GET") {
        const answer = listPage(stored, match[1]!, url.searchParams, Date.now());
        lists.push({ query: Object.fromEntries(url.searchParams), answeredWith: answer.status });
        return json(answer.status, answer.body);
      }

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

      /**
       * Creates the Message; one that names a StatusCallback gets its receipts, whatever becomes of the answer to
       * its POST (Twilio took it): after the answer is on the wire, or the connection is gone — a receipt never
       * overtakes the answer to its send.
       */
      const make = () => {
        const message = create(match[1]!, form);
        const callbackUrl = form.get("StatusCallback");
        const token = options.authToken ?? (username === match[1] ? credentials.password : undefined);
        if (callbackUrl && token && options.statusCallbacks !== false) {
          const sending = new Promise<void>((resolve) => (res.closed ? resolve() : res.once("close", () => resolve())))
            .then(() => sendReceipts(callbackUrl, token, message))
            .finally(() => pendingCallbacks.delete(sending));
          pendingCallbacks.add(sending);
        }
        return message;
      };

      switch (fault?.kind) {
        case "hang":
          record("hang");
          make();
          hanging.add(res);
          return;
        case "reset":
          record("reset");
          make();
          req.socket.destroy();
          return;
        case "invalidJson":
          record(201);
          make();
          res.writeHead(201, { "Content-Type": "application/json" });
          res.end("<html>not twilio</html>");
          return;
        case "missingSid":
          record(201);
          return json(201, { ...make(), sid: null });
        case "slow": {
          record(201);
          const message = make();
          setTimeout(() => {
            if (!res.destroyed) json(201, message);
          }, fault.ms);
          return;
        }
        case "hold": {
          record("held");
          const message = make();
          hanging.add(res);
          held.push(() => {
            hanging.delete(res);
            if (!res.destroyed) json(201, message);
          });
          return;
        }
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
          if (fault.created) make();
          return json(fault.status, twilioError(fault.status, fault.code, fault.message ?? `Twilio error ${fault.code}`));
        default:
          if (!form.get("To") || !form.get("Body") || !(form.get("From") || form.get("MessagingServiceSid"))) {
            record(400);
            return json(400, twilioError(400, 21604, "A 'To', a 'Body' and a 'From' or 'MessagingServiceSid' are required"));
          }
          record(201);
          json(201, make());
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
    /** Derived from `stored` on each read: one record of what was created, not two kept in step. */
    get created(): CreatedSms[] {
      return stored.map(({ resource: m, createdAt }) => ({
        sid: m.sid,
        to: m.to,
        from: m.from,
        messagingServiceSid: m.messaging_service_sid,
        body: m.body,
        createdAt,
      }));
    },
    lists,
    setQueueMs: (ms) => void (queueMs = ms),
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
      stored.length = 0;
      lists.length = 0;
      queueMs = options.queueMs ?? 0;
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
