import http from "node:http";
import https from "node:https";

/**
 * The transport behind the official `twilio` SDK (its documented `httpClient` option): the SDK still builds
 * every request and parses every answer; this adds what its default axios client cannot give us per request —
 * the gateway's deadline as an AbortSignal, no write once too little time is left (waiting for a pooled
 * connection included), whether the request was written (an error after that leaves the outcome unknown), a
 * keep-alive pool sized to the gateway's concurrency for http and https alike, and a base URL override
 * (TWILIO_API_BASE_URL) for tests and proxies.
 */

/** The subset of the SDK's request options this transport receives (twilio/lib/base/RequestClient). */
export interface TwilioHttpRequest {
  method: string;
  uri: string;
  username?: string;
  password?: string;
  headers?: Record<string, string>;
  params?: Record<string, unknown>;
  data?: Record<string, unknown>;
}

export interface TwilioHttpResponse {
  statusCode: number;
  body: string;
  headers: http.IncomingHttpHeaders;
}

export interface BoundTwilioHttpClient {
  request(opts: TwilioHttpRequest): Promise<TwilioHttpResponse>;
  /** The last answer's headers: the SDK's RestException drops them, and a 429's Retry-After matters. */
  readonly lastHeaders: http.IncomingHttpHeaders | undefined;
  /** The request was handed to a connected socket: from then on Twilio may have received it. */
  readonly written: boolean;
}

export interface AttemptLimits {
  /** Aborted at the gateway's deadline: the request is destroyed, whatever state it is in. */
  signal: AbortSignal;
  /** Epoch ms after which the request must not be written: it could not finish before the deadline. */
  startBy: number;
}

export interface TwilioTransport {
  /** The object handed to the SDK as `httpClient` for one attempt, bound to that send's deadline. */
  bind(limits: AttemptLimits): BoundTwilioHttpClient;
  close(): void;
}

/**
 * The request was not written: the connection came (from the pool, or connected) too late to finish before the
 * deadline. Nothing was sent.
 */
export class AttemptNotStartedError extends Error {
  override readonly name = "AttemptNotStartedError";
}

/**
 * The runtime handed an already-written request a second socket: it was about to send it again (Deno's
 * node:http retries a request whose reused keep-alive socket closed before the answer). Destroyed before a byte
 * went out on the new socket.
 */
export class ResendRefusedError extends Error {
  override readonly name = "ResendRefusedError";
}

/** Twilio answers are small JSON documents; anything larger is not Twilio. */
const MAX_RESPONSE_BYTES = 1024 * 1024;

function formEncode(data: Record<string, unknown>): string {
  const form = new URLSearchParams();
  for (const [key, value] of Object.entries(data)) {
    if (value === undefined || value === null) continue;
    for (const item of Array.isArray(value) ? value : [value]) form.append(key, String(item));
  }
  return form.toString();
}

/** Moves the SDK's https://api.twilio.com/... URI onto the configured base, keeping path and query. */
export function rewriteUri(uri: string, baseUrl: string, params?: Record<string, unknown>): URL {
  const url = new URL(uri);
  const base = new URL(baseUrl);
  url.protocol = base.protocol;
  url.host = base.host;
  url.pathname = base.pathname.replace(/\/+$/, "") + url.pathname;
  if (params) for (const [k, v] of new URLSearchParams(formEncode(params))) url.searchParams.append(k, v);
  return url;
}

export interface TwilioTransportOptions {
  baseUrl: string;
  maxSockets: number;
  now?: () => number;
  /**
   * Sets Deno's private `_retrying` flag on every request (default true). Only the Deno race test turns it off, to
   * show that the public guard (a second 'socket' is refused) holds on its own.
   */
  denoRetryFlag?: boolean;
}

export function createTwilioTransport(options: TwilioTransportOptions): TwilioTransport {
  const now = options.now ?? Date.now;
  const agentOptions = { keepAlive: true, maxSockets: options.maxSockets, maxFreeSockets: options.maxSockets };
  const agents = { http: new http.Agent(agentOptions), https: new https.Agent(agentOptions) };

  function send(opts: TwilioHttpRequest, limits: AttemptLimits, onWritten: () => void): Promise<TwilioHttpResponse> {
    const url = rewriteUri(opts.uri, options.baseUrl, opts.params);
    const headers: Record<string, string> = { ...opts.headers, Connection: "keep-alive" };
    if (opts.username && opts.password) {
      headers.Authorization = `Basic ${Buffer.from(`${opts.username}:${opts.password}`).toString("base64")}`;
    }
    let body: string | undefined;
    if (opts.data) {
      body = headers["Content-Type"] === "application/json" ? JSON.stringify(opts.data) : formEncode(opts.data);
      headers["Content-Length"] = String(Buffer.byteLength(body));
    }
    const secure = url.protocol === "https:";
    const request = secure ? https.request : http.request;

    return new Promise((resolve, reject) => {
      // node:http never follows redirects (only fetch does): a 3xx comes back as an answer, and the credentials
      // stay with the configured host. gateway/test/twilioFaults.test.ts pins it.
      const req = request(
        url,
        { method: opts.method, headers, agent: secure ? agents.https : agents.http, signal: limits.signal },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on("data", (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_RESPONSE_BYTES) res.destroy(new Error("Twilio response too large"));
            else chunks.push(chunk);
          });
          res.on("end", () =>
            resolve({ statusCode: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8"), headers: res.headers }),
          );
          res.on("error", reject);
        },
      );
      // Nothing is written until a connected socket is in hand (a ClientRequest sends its head only on write or
      // end): the time spent waiting for a pooled connection or connecting counts, and a request that could no
      // longer finish before the deadline is never started. (On https the bytes leave after the TLS handshake, one
      // round trip after 'connect': MIN_ATTEMPT_MS covers it.)
      let sockets = 0;
      req.on("socket", (socket) => {
        if (++sockets > 1) {
          // Deno re-sends through a second socket (see below); Node never gives a request two. Emitted before the
          // runtime flushes the request onto it, so destroying here sends nothing.
          req.destroy(new ResendRefusedError("the runtime tried to send the request again on a new connection"));
          return;
        }
        const start = () => {
          if (now() > limits.startBy) {
            req.destroy(new AttemptNotStartedError("no time left before the deadline to start the request"));
            return;
          }
          onWritten();
          req.end(body);
        };
        if (socket.connecting) socket.once("connect", start);
        else start();
      });
      // Deno's node:http re-sends a request whose reused keep-alive socket closes before the answer — a POST it
      // has fully written, or one we aborted at the deadline (denoland/deno#36786; retry added in deno#31932):
      // the OTP would go out twice. Node never re-sends. `_retrying` is the flag Deno's canRetryRequest() checks
      // (deno 2.9.6); Node ignores it. The second-socket check above is the public
      // guard behind it. gateway/test/deno pins both by counting sends.
      if (options.denoRetryFlag !== false) (req as http.ClientRequest & { _retrying?: boolean })._retrying = true;
      req.on("error", reject);
    });
  }

  return {
    bind(limits) {
      let lastHeaders: http.IncomingHttpHeaders | undefined;
      let written = false;
      return {
        async request(opts) {
          const response = await send(opts, limits, () => (written = true));
          lastHeaders = response.headers;
          return response;
        },
        get lastHeaders() {
          return lastHeaders;
        },
        get written() {
          return written;
        },
      };
    },
    close() {
      agents.http.destroy();
      agents.https.destroy();
    },
  };
}
