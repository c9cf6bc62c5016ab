import pRetry, { AbortError } from "p-retry";
import { isTransientStatus } from "./classify.ts";

export type Fetch = typeof globalThis.fetch;

export interface RetryPolicy {
  /** Retries after the first attempt. */
  readonly retries: number;
  /** Delay before the first retry, doubled each time. Default 500 ms in the CLI; tests set 1. */
  readonly minTimeoutMs: number;
  /** Ceiling for one delay. Default 4000 ms in the CLI. */
  readonly maxTimeoutMs: number;
}

export interface HttpDeps {
  readonly fetch: Fetch;
  /** Per-attempt timeout. */
  readonly timeoutMs: number;
  readonly retry: RetryPolicy;
  /** Told about each failed attempt that will be retried (progress output). */
  readonly onRetry?: (info: { attempt: number; retriesLeft: number; reason: string }) => void;
}

export interface HttpAnswer {
  readonly status: number;
  readonly body: string;
  readonly attempts: number;
}

/** Thrown when every attempt failed with a 5xx, a network error or a timeout. */
export class TransientFailure extends Error {
  override readonly name = "TransientFailure";
  constructor(
    message: string,
    readonly attempts: number,
    readonly lastStatus?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * A 3xx answer. Never followed: every request here carries a secret (the client secret, the bearer token, the
 * gateway's API key in a header or the PUT's body), and following would hand it to wherever the redirect points
 * (issue 8, item 8: fetch re-sent all three and the CLI printed ✔). Not retried either.
 */
export class RedirectRefused extends Error {
  override readonly name = "RedirectRefused";
  constructor(
    readonly status: number,
    /** Only the target's origin (its path or query could carry anything); undefined when there was none. */
    readonly target: string | undefined,
  ) {
    super(`answered ${status}, a redirect${target ? ` to ${target}` : ""}; not followed: the request carries a secret`);
  }
}

function redirectTarget(location: string | null, from: string): string | undefined {
  if (!location) return undefined;
  try {
    const to = new URL(location, from);
    return to.origin === new URL(from).origin ? "another path on the same host" : to.origin;
  } catch {
    return undefined;
  }
}

/** A failed attempt (network error, timeout), already described; `cause` keeps the original. */
class AttemptError extends Error {}

class TransientStatus extends Error {
  constructor(readonly status: number) {
    super(`HTTP ${status}`);
  }
}

function describe(error: unknown): string {
  if (error instanceof TransientStatus || error instanceof AttemptError) return error.message;
  // DOMException may come from another realm: test the name, not the prototype.
  if ((error as { name?: unknown } | null)?.name === "TimeoutError") return "timed out";
  if (error instanceof Error) {
    const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
    if (cause && typeof cause.code === "string") return cause.code;
    if (cause && typeof cause.message === "string") return cause.message;
    return error.message;
  }
  return String(error);
}

/**
 * One HTTP exchange with a per-attempt timeout; 5xx, network errors and timeouts are retried with exponential
 * backoff by p-retry, 4xx and 2xx are returned to the caller to classify, a 3xx is refused (RedirectRefused).
 */
export async function requestWithRetry(deps: HttpDeps, url: string, init: RequestInit): Promise<HttpAnswer> {
  let attempts = 0;
  try {
    return await pRetry(
      async () => {
        attempts++;
        let response: Response;
        try {
          response = await deps.fetch(url, { ...init, redirect: "manual", signal: AbortSignal.timeout(deps.timeoutMs) });
        } catch (error) {
          // Network errors and timeouts: outcome unknown, but every request here is idempotent (a token, a
          // GET, a PUT of the same configuration), so repeating it is safe. p-retry skips plain TypeErrors
          // that are not network errors, so wrap everything.
          throw new AttemptError(describe(error), { cause: error });
        }
        const body = await response.text().catch(() => "");
        if (response.status >= 300 && response.status < 400) {
          throw new AbortError(new RedirectRefused(response.status, redirectTarget(response.headers.get("location"), url)));
        }
        if (isTransientStatus(response.status)) throw new TransientStatus(response.status);
        return { status: response.status, body, attempts };
      },
      {
        retries: deps.retry.retries,
        minTimeout: deps.retry.minTimeoutMs,
        maxTimeout: deps.retry.maxTimeoutMs,
        factor: 2,
        onFailedAttempt: ({ error, attemptNumber, retriesLeft }) => {
          if (retriesLeft > 0) deps.onRetry?.({ attempt: attemptNumber, retriesLeft, reason: describe(error) });
        },
      },
    );
  } catch (error) {
    if (error instanceof RedirectRefused) throw error;
    if (error instanceof AbortError) throw error.originalError;
    const lastStatus = error instanceof TransientStatus ? error.status : undefined;
    throw new TransientFailure(`${describe(error)} after ${attempts} attempt(s)`, attempts, lastStatus, { cause: error });
  }
}
