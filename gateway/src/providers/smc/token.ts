import { NOT_STARTED, type SendOutcome } from "../provider.ts";
import type { SmcToken, SmcTokenVerdict } from "./classify.ts";

/**
 * SMC's access token, fetched once and shared. Salesforce asks clients not to fetch a token per call (it throttles
 * that; "Access Token for Server-to-Server Integrations"): the token is kept until `refreshMarginMs` before it
 * expires, and concurrent sends that find none wait for the same single request (a burst of 50 sends makes one
 * token request). A send answered 401 drops the token it used — only that one, so 50 sends holding the same stale
 * token cause one refresh, not 50.
 *
 * The shared request is not tied to any one send's deadline (a send that gives up must not fail the others): it
 * has its own bound, and each caller stops waiting for it at its own `startBy`.
 */

type Rejected = Extract<SendOutcome, { kind: "provider_rejected" }>;

export interface TokenCacheOptions {
  /** One token request; resolves to a token or a rejection, never throws for an HTTP failure. */
  fetchToken: (signal: AbortSignal) => Promise<SmcTokenVerdict>;
  now: () => number;
  /** Drop the token this long before it expires. Default 60 s: a send never starts with a token about to lapse. */
  refreshMarginMs?: number;
  /** The shared request's own bound. Default 10 s. */
  fetchTimeoutMs?: number;
}

export interface TokenCache {
  /** A valid token, or why none could be had by `startBy` (epoch ms). */
  get(signal: AbortSignal, startBy: number): Promise<{ token: SmcToken } | Rejected>;
  /** The server refused `token` (401): forget it, unless it was already replaced. */
  invalidate(token: SmcToken): void;
  /** Token requests made so far (for the log and tests). */
  readonly requests: number;
}

export function createTokenCache(options: TokenCacheOptions): TokenCache {
  const { fetchToken, now, refreshMarginMs = 60_000, fetchTimeoutMs = 10_000 } = options;
  let cached: { token: SmcToken; expiresAt: number } | undefined;
  let inFlight: Promise<SmcTokenVerdict> | undefined;
  let requests = 0;

  function refresh(): Promise<SmcTokenVerdict> {
    requests++;
    const requestedAt = now();
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), fetchTimeoutMs);
    const request = fetchToken(controller.signal)
      .then((verdict) => {
        // Lifetime counted from when we asked, not when the answer came: never hold a token past its expiry.
        if (verdict.kind === "token") cached = { token: verdict.token, expiresAt: requestedAt + verdict.token.expiresInMs };
        return verdict;
      })
      .finally(() => {
        clearTimeout(timer);
        inFlight = undefined;
      });
    inFlight = request;
    return request;
  }

  return {
    async get(signal, startBy) {
      if (cached && now() < cached.expiresAt - refreshMarginMs) return { token: cached.token };
      const request = inFlight ?? refresh();
      const verdict = await waitUntil(request, signal, startBy - now());
      if (verdict === undefined) {
        return { kind: "provider_rejected", code: NOT_STARTED, reason: "SMC token not obtained in time (the SMS was not sent)" };
      }
      return verdict.kind === "token" ? { token: verdict.token } : verdict;
    },
    invalidate(token) {
      if (cached?.token.accessToken === token.accessToken) cached = undefined;
    },
    get requests() {
      return requests;
    },
  };
}

/** The promise's value, or undefined once `signal` aborts or `ms` pass first (the promise itself runs on). */
function waitUntil<T>(promise: Promise<T>, signal: AbortSignal, ms: number): Promise<T | undefined> {
  if (signal.aborted || ms <= 0) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
    };
    const onAbort = () => {
      done();
      resolve(undefined);
    };
    const timer = setTimeout(onAbort, ms);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        done();
        resolve(value);
      },
      (err: unknown) => {
        done();
        reject(err);
      },
    );
  });
}
