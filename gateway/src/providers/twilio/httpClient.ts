import http from "node:http";
import https from "node:https";

/**
 * The transport behind the official `twilio` SDK (its documented `httpClient` option): the SDK still builds
 * every request and parses every answer; this adds what its default axios client cannot give us per request —
 * the gateway's deadline as an AbortSignal, a keep-alive pool sized to the gateway's concurrency for http and
 * https alike, and a base URL override (TWILIO_API_BASE_URL) for tests and proxies.
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
}

export interface TwilioTransport {
  /** The object handed to the SDK as `httpClient` for one send, bound to that send's deadline. */
  bind(signal: AbortSignal): BoundTwilioHttpClient;
  close(): void;
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

export function createTwilioTransport(options: { baseUrl: string; maxSockets: number }): TwilioTransport {
  const agentOptions = { keepAlive: true, maxSockets: options.maxSockets, maxFreeSockets: options.maxSockets };
  const agents = { http: new http.Agent(agentOptions), https: new https.Agent(agentOptions) };

  function send(opts: TwilioHttpRequest, signal: AbortSignal): Promise<TwilioHttpResponse> {
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
      const req = request(
        url,
        { method: opts.method, headers, agent: secure ? agents.https : agents.http, signal },
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
      // Deno's node:http re-sends a request whose reused keep-alive socket closes before the answer — a POST it
      // has fully written, or one we aborted at the deadline (denoland/deno#36786; retry added in deno#31932):
      // the OTP would go out twice. Node never re-sends. `_retrying` is the flag Deno's canRetryRequest() checks
      // (deno 2.9.6); Node ignores it. gateway/test/deno pins both cases (reset, hang) by counting sends.
      (req as http.ClientRequest & { _retrying?: boolean })._retrying = true;
      req.on("error", reject);
      req.end(body);
    });
  }

  return {
    bind(signal) {
      let lastHeaders: http.IncomingHttpHeaders | undefined;
      return {
        async request(opts) {
          const response = await send(opts, signal);
          lastHeaders = response.headers;
          return response;
        },
        get lastHeaders() {
          return lastHeaders;
        },
      };
    },
    close() {
      agents.http.destroy();
      agents.https.destroy();
    },
  };
}
