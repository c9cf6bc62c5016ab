/**
 * The names in the gateway's JSON log lines that something else reads: the Pulumi program's log-based metrics,
 * alerts and dashboard (infra/observability.ts) filter on exactly these. One module, no imports and no I/O, so
 * the gateway (Node and Deno) and infra/ (ts-node) import the same constants: rename a field here and the
 * metrics follow, instead of silently counting nothing.
 *
 * Cloud Logging keeps every field of a structured line under `jsonPayload` except the special ones (`severity`,
 * `message`, `httpRequest`, `time`, `logging.googleapis.com/*`), which it lifts onto the LogEntry itself
 * (https://cloud.google.com/logging/docs/structured-logging#special-payload-fields). Hence the two prefixes below.
 *
 * Never a message text and never a full number in these lines (`destination` is masked by phone.ts).
 */

/** The field naming which kind of line this is. */
export const EVENT_FIELD = "event";

export const LOG_EVENTS = {
  /** One per POST that asked for an SMS, whatever its outcome. */
  send: "sms.send",
  /** One per delivery receipt a provider pushed to us and we verified. */
  receipt: "sms.receipt",
} as const;

/** Fields of the `sms.send` line (ARCH.md, "Log lines that metrics read"). */
export const SEND_FIELDS = {
  /** The provider that sent, or the last one tried. */
  provider: "provider",
  /** ISO 3166 alpha-2 of the destination, or UNKNOWN_COUNTRY. */
  country: "country",
  /** One of SEND_OUTCOMES. */
  outcome: "outcome",
  /** Arrival of the POST to its answer, in milliseconds. */
  latencyMs: "latencyMs",
  /** [{provider, outcome, latencyMs, code?}] in the order tried. */
  attempts: "attempts",
  /** true when a second provider was tried. */
  failover: "failover",
  /** The SMS_ROUTES key used. */
  route: "route",
  /** Which protection refused it: per_number | per_prefix | per_country | global | allowed_countries (issue 11). */
  limit: "limit",
  /** Where a `deduplicated` answer came from: record | lookup | joined. */
  dedupe: "dedupe",
} as const;

export const SEND_OUTCOMES = [
  "sent",
  "deduplicated",
  "destination_rejected",
  "provider_rejected",
  "outcome_unknown",
  "provider_timeout",
  "rate_limited",
  "country_not_allowed",
  "invalid_request",
] as const;
export type SendOutcomeName = (typeof SEND_OUTCOMES)[number];

/**
 * Outcomes that are the gateway's or a provider's failure to deliver what it was asked to: the numerator of the
 * send error ratio. A rejected destination (the caller's number), our own refusals (limits, allow-list) and bad
 * requests are not: they are counted, but paging on them would page on users and attackers.
 */
export const SEND_FAILURE_OUTCOMES = ["provider_rejected", "outcome_unknown", "provider_timeout"] as const satisfies
  readonly SendOutcomeName[];

/** Refusals by the protection layer (issue 11): counted as "limit refusals". */
export const SEND_REFUSAL_OUTCOMES = ["rate_limited", "country_not_allowed"] as const satisfies readonly SendOutcomeName[];

/** Fields of the `sms.receipt` line. */
export const RECEIPT_FIELDS = {
  provider: "provider",
  providerMessageId: "providerMessageId",
  /** One of RECEIPT_STATUSES. */
  status: "status",
  /** The provider's own error code, as a string; absent when it sent none. */
  providerErrorCode: "providerErrorCode",
  /** Seconds from the send to the handset's delivery report; only on `delivered`, and only where known. */
  deliverySeconds: "deliverySeconds",
  country: "country",
  /** Masked: calling code and last two digits. */
  destination: "destination",
} as const;

/**
 * Receipt statuses, normalised across providers. `delivered`, `undelivered` and `failed` are final and carry the
 * answer an operator wants; `unconfirmed` is final without an answer (the carrier sends no delivery reports);
 * `queued` and `sent` are progress.
 */
export const RECEIPT_STATUSES = ["queued", "sent", "delivered", "undelivered", "failed", "unconfirmed"] as const;
export type ReceiptStatus = (typeof RECEIPT_STATUSES)[number];

/**
 * The denominator of the delivery ratio. `unconfirmed` stays out: counting it as a failure would page on every
 * country whose carriers send no delivery reports.
 */
export const RECEIPT_FINAL_STATUSES = ["delivered", "undelivered", "failed"] as const satisfies readonly ReceiptStatus[];

export const UNKNOWN_COUNTRY = "unknown";

/** The access-log fields, as Cloud Logging stores them: on the LogEntry's own `httpRequest`, not in jsonPayload. */
export const ACCESS_LOG_FIELDS = {
  status: "httpRequest.status",
  /** The gateway logs the path only (no query string, no host). */
  requestUrl: "httpRequest.requestUrl",
} as const;

/** Where a jsonPayload field sits in a Cloud Logging filter or label extractor. */
export function jsonPayloadPath(field: string): string {
  return `jsonPayload.${field}`;
}
