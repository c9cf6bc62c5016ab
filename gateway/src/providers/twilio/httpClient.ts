import type http from "node:http";
import type { AttemptLimits, HttpTransport } from "../transport.ts";

/**
 * What the official `twilio` SDK calls as its `httpClient` (its documented option): the SDK still builds every
 * request and parses every answer; this hands them to the gateway's shared transport (../transport.ts: deadline,
 * no write once too little time is left, whether the request was written, keep-alive pool, no redirects, no
 * re-send on Deno) and moves them onto TWILIO_API_BASE_URL (tests, proxies).
 */

/** The subset of the SDK's request options this client receives (twilio/lib/base/RequestClient). */
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

/** What the SDK needs of its `httpClient`: it only ever calls request() (twilio/lib/base/BaseTwilio.js). */
export interface TwilioHttpClient {
  request(opts: TwilioHttpRequest): Promise<TwilioHttpResponse>;
}

export interface BoundTwilioHttpClient extends TwilioHttpClient {
  /** The last answer's headers: the SDK's RestException drops them, and a 429's Retry-After matters. */
  readonly lastHeaders: http.IncomingHttpHeaders | undefined;
  /** The request was handed to a connected socket: from then on Twilio may have received it. */
  readonly written: boolean;
}

export interface TwilioTransport {
  /** The object handed to the SDK as `httpClient` for one request, bound to that request's limits. */
  bind(limits: AttemptLimits): BoundTwilioHttpClient;
}

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

/**
 * The SDK called its httpClient other than synchronously from the API call (a change in the SDK this gateway
 * does not support): the request was not sent.
 */
export class SdkCallOrderError extends Error {
  override readonly name = "SdkCallOrderError";
}

export interface SharedTwilioHttpClient {
  /** Handed to the one SDK client built per process. */
  readonly httpClient: TwilioHttpClient;
  /**
   * Runs one SDK call whose request goes through `bound` (one attempt's limits and state). The SDK's API methods
   * call their httpClient synchronously (message.create → Version.create → Domain.request → BaseTwilio.Client
   * .request → httpClient.request, twilio 5.x/6.x, none of them async), so the attempt is handed over in a slot
   * that the call empties before it returns. A call that leaves the slot full, or a request that finds it empty,
   * is refused before anything is written: concurrent sends can never swap limits.
   */
  through<T>(bound: BoundTwilioHttpClient, call: () => Promise<T>): Promise<T>;
}

/**
 * One httpClient for a process-wide SDK client, instead of the SDK's Client, Api and Messages objects built for
 * every send (issue 12: Node ~0.91x the CPU per request, Deno within noise; commit d822fd8).
 */
export function shareTwilioHttpClient(): SharedTwilioHttpClient {
  let slot: BoundTwilioHttpClient | undefined;
  return {
    httpClient: {
      request(opts) {
        const bound = slot;
        slot = undefined;
        if (!bound) return Promise.reject(new SdkCallOrderError("the twilio SDK called its httpClient outside the API call"));
        return bound.request(opts);
      },
    },
    through(bound, call) {
      slot = bound;
      let result: Promise<never>;
      try {
        result = call() as Promise<never>;
      } catch (err) {
        slot = undefined;
        throw err;
      }
      const untaken = slot !== undefined;
      slot = undefined;
      if (!untaken) return result;
      result.catch(() => {}); // its late request finds the slot empty and rejects: nothing is written
      return Promise.reject(new SdkCallOrderError("the twilio SDK did not call its httpClient synchronously"));
    },
  };
}

/** Rewritten URIs without query params: a send always posts to the same Messages.json, so parse it once. */
const URL_CACHE_LIMIT = 16;

export function createTwilioTransport(transport: HttpTransport, baseUrl: string): TwilioTransport {
  const urls = new Map<string, URL>();
  const urlFor = (uri: string, params?: Record<string, unknown>): URL => {
    if (params) return rewriteUri(uri, baseUrl, params);
    let url = urls.get(uri);
    if (!url) {
      url = rewriteUri(uri, baseUrl);
      if (urls.size < URL_CACHE_LIMIT) urls.set(uri, url);
    }
    return url;
  };
  return {
    bind(limits) {
      let lastHeaders: http.IncomingHttpHeaders | undefined;
      let written = false;
      return {
        async request(opts) {
          const headers: Record<string, string> = { ...opts.headers };
          if (opts.username && opts.password) {
            headers.Authorization = `Basic ${Buffer.from(`${opts.username}:${opts.password}`).toString("base64")}`;
          }
          const body = opts.data
            ? headers["Content-Type"] === "application/json"
              ? JSON.stringify(opts.data)
              : formEncode(opts.data)
            : undefined;
          const url = urlFor(opts.uri, opts.params);
          const method = opts.method.toUpperCase() === "GET" ? "GET" : "POST";
          const answer = await transport.send({ url, method, headers, ...(body !== undefined && { body }) }, limits, () => {
            written = true;
          });
          lastHeaders = answer.headers as http.IncomingHttpHeaders;
          return { statusCode: answer.status, body: answer.body, headers: lastHeaders };
        },
        get lastHeaders() {
          return lastHeaders;
        },
        get written() {
          return written;
        },
      };
    },
  };
}
