/**
 * Every failure the gateway can answer with, as one typed error, and the single place where errors become HTTP
 * responses. Handlers and providers throw; only `toErrorResponse` decides status codes and bodies.
 */

export type ErrorCode =
  | "invalid_request"
  | "unauthorized"
  | "not_found"
  | "method_not_allowed"
  | "request_timeout"
  | "payload_too_large"
  | "header_too_large"
  | "unsupported_media_type"
  | "country_not_allowed"
  | "expectation_failed"
  | "rate_limited"
  | "destination_rejected"
  | "provider_rejected"
  | "provider_rate_limited"
  | "provider_timeout"
  | "signature_missing"
  | "signature_invalid"
  | "receipt_expired"
  | "receipt_replayed"
  | "outcome_unknown"
  | "internal";

const STATUS: Record<ErrorCode, number> = {
  invalid_request: 400,
  unauthorized: 401,
  not_found: 404,
  method_not_allowed: 405,
  request_timeout: 408,
  payload_too_large: 413,
  header_too_large: 431,
  unsupported_media_type: 415,
  // No route serves the destination's country (SMS_ROUTES without its code or "*"); issue 11's allow-list too.
  country_not_allowed: 403,
  expectation_failed: 417,
  // An abuse limit (RATE_LIMIT_*) refused the send; Retry-After says when the window allows it (issue 11).
  rate_limited: 429,
  destination_rejected: 422,
  // Every provider of the route refused the SMS for a reason of ours: certainly not sent.
  provider_rejected: 502,
  provider_rate_limited: 503,
  provider_timeout: 504,
  // Delivery receipts (receipts/): a provider's callback that cannot be trusted changes nothing.
  signature_missing: 401,
  signature_invalid: 403,
  receipt_expired: 403,
  receipt_replayed: 409,
  outcome_unknown: 502,
  internal: 500,
};

export interface GatewayErrorOptions {
  cause?: unknown;
  /**
   * The deadline cut the send off: an `outcome_unknown` then answers 504 instead of 502 (ARCH.md "Answers"), so
   * the caller sees both that the SMS may have gone out and that it was the gateway's time limit that ended it.
   */
  atDeadline?: boolean;
  /** Seconds until a retry may succeed: the answer's Retry-After header. */
  retryAfterS?: number;
  /** Extra fields for the log line (never secrets, never the message text). */
  context?: Record<string, string | number | boolean | undefined>;
}

export class GatewayError extends Error {
  override readonly name = "GatewayError";
  readonly code: ErrorCode;
  readonly context: Record<string, string | number | boolean | undefined>;
  readonly atDeadline: boolean;
  readonly retryAfterS: number | undefined;

  constructor(code: ErrorCode, message: string, options: GatewayErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.code = code;
    this.context = options.context ?? {};
    this.atDeadline = options.atDeadline ?? false;
    this.retryAfterS = options.retryAfterS;
  }

  get status(): number {
    return this.code === "outcome_unknown" && this.atDeadline ? 504 : STATUS[this.code];
  }
}

export interface ErrorResponse {
  status: number;
  body: { error: { code: ErrorCode; message: string } };
  headers: Record<string, string>;
}

/** body-parser's errors carry a `type`; these are the ones a client can cause. */
function fromBodyParser(err: { type?: unknown; status?: unknown }): GatewayError | undefined {
  switch (err.type) {
    case "entity.too.large":
      return new GatewayError("payload_too_large", "request body exceeds 16 KiB");
    case "entity.parse.failed":
      return new GatewayError("invalid_request", "request body is not valid JSON");
    case "encoding.unsupported":
    case "charset.unsupported":
      return new GatewayError("unsupported_media_type", "request body must be UTF-8 JSON");
    default:
      // Any other client error body-parser raises (an aborted body, a Content-Encoding whose data does not
      // inflate) is the caller's fault: a 400. Its 5xx stay internal errors.
      return typeof err.status === "number" && err.status >= 400 && err.status < 500
        ? new GatewayError("invalid_request", "request body could not be read")
        : undefined;
  }
}

export function toGatewayError(err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  if (typeof err === "object" && err !== null) {
    const mapped = fromBodyParser(err as { type?: unknown });
    if (mapped) return mapped;
  }
  return new GatewayError("internal", "internal error", { cause: err });
}

export function toErrorResponse(err: unknown): ErrorResponse {
  const e = toGatewayError(err);
  const headers: Record<string, string> = e.retryAfterS === undefined ? {} : { "Retry-After": String(e.retryAfterS) };
  return { status: e.status, body: { error: { code: e.code, message: e.message } }, headers };
}
