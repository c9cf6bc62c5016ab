// What the operator measures, as data: the log-based metrics (names, filters, labels, buckets), the alert
// conditions and the dashboard, all built from the same definitions and from the gateway's own log field names
// (gateway/src/logEvents.ts). Pure: no Pulumi resources here, so the decisions are table-tested on their own and
// infra/observability.ts only turns them into resources.
//
// Log entries: Cloud Run puts each JSON line the container writes on stdout into Cloud Logging with resource type
// `cloud_run_revision` and label `service_name`; fields stay under `jsonPayload` except the special ones such as
// `httpRequest` (https://cloud.google.com/run/docs/logging#writing_structured_logs). A log-based metric's type is
// `logging.googleapis.com/user/<name>` (https://cloud.google.com/logging/docs/logs-based-metrics).

import {
  ACCESS_LOG_FIELDS,
  EVENT_FIELD,
  jsonPayloadPath,
  LOG_EVENTS,
  RECEIPT_FIELDS,
  RECEIPT_FINAL_STATUSES,
  SEND_FAILURE_OUTCOMES,
  SEND_FIELDS,
  SEND_REFUSAL_OUTCOMES,
} from "../gateway/src/logEvents.js";

/** Mosaic gives up on a send after about 3 s (shared/MOSAIC.md): the line every latency chart is drawn against. */
export const MOSAIC_BUDGET_MS = 3000;

export interface ObservabilityThresholds {
  /** Page when more than this share of sends fail (provider rejected, outcome unknown, timeout) over 5 min. */
  sendErrorRatio: number;
  /** Page when fewer than this share of final receipts say `delivered` over 30 min. */
  deliveryRatio: number;
  /** Page when the p99 of send latency exceeds this over 5 min: near Mosaic's 3 s budget, before it is hit. */
  sendLatencyP99Ms: number;
  /** Page when more than this many 401s hit the gateway path within 5 min (a key rotation gone wrong, a probe). */
  unauthorizedPer5Min: number;
  /**
   * The ratio alerts stay quiet below this many sends (or final receipts) in their window: one failure in three
   * sends at night is not an outage.
   */
  minVolume: number;
}

export const DEFAULT_THRESHOLDS: ObservabilityThresholds = {
  sendErrorRatio: 0.05,
  deliveryRatio: 0.9,
  sendLatencyP99Ms: 2500,
  unauthorizedPer5Min: 20,
  minVolume: 20,
};

/** Problems with thresholds, each naming the field: validated before any resource is created. */
export function thresholdProblems(t: ObservabilityThresholds): string[] {
  const problems: string[] = [];
  const ratio = (name: keyof ObservabilityThresholds) => {
    if (!(t[name] > 0 && t[name] < 1)) problems.push(`${name} must be a ratio between 0 and 1 (exclusive)`);
  };
  ratio("sendErrorRatio");
  ratio("deliveryRatio");
  if (!(t.sendLatencyP99Ms > 0 && t.sendLatencyP99Ms <= 30_000)) problems.push("sendLatencyP99Ms must be from 1 to 30000");
  for (const name of ["unauthorizedPer5Min", "minVolume"] as const) {
    if (!Number.isInteger(t[name]) || t[name] < 0) problems.push(`${name} must be a whole number, 0 or more`);
  }
  return problems;
}

/** Label keys of the metrics (Cloud Monitoring: lowercase, digits, underscores). */
export type LabelKey = "provider" | "country" | "outcome" | "status" | "error_code" | "route";

/** Where each label comes from in the gateway's lines. */
const LABEL_SOURCES: Record<LabelKey, { field: string; description: string }> = {
  provider: { field: SEND_FIELDS.provider, description: "SMS provider (the one that sent, or the last tried)" },
  country: { field: SEND_FIELDS.country, description: "destination country, ISO 3166 alpha-2, or unknown" },
  outcome: { field: SEND_FIELDS.outcome, description: "the gateway's answer to the send" },
  status: { field: RECEIPT_FIELDS.status, description: "receipt status, normalised across providers" },
  error_code: { field: RECEIPT_FIELDS.providerErrorCode, description: "the provider's error code, if any" },
  route: { field: SEND_FIELDS.route, description: "the SMS_ROUTES entry used" },
};

export type MetricKey =
  | "sends"
  | "sendLatency"
  | "receipts"
  | "deliveryTime"
  | "failovers"
  | "unauthorized"
  | "duplicates"
  | "refusals";

export interface MetricDefinition {
  key: MetricKey;
  /** Appended to the name prefix: `<prefix>/<suffix>`. */
  suffix: string;
  displayName: string;
  description: string;
  /** The log filter's own clause; the service clause is added by metricFilter(). */
  match: string;
  labels: LabelKey[];
  /** A distribution of a numeric field, or (absent) a count of matching lines. */
  distribution?: { field: string; unit: string; bounds: number[] };
}

const event = (name: string) => `${jsonPayloadPath(EVENT_FIELD)}="${name}"`;
const field = (name: string) => jsonPayloadPath(name);
const anyOf = (path: string, values: readonly string[]) => `(${values.map((v) => `${path}="${v}"`).join(" OR ")})`;

/**
 * Latency buckets in ms, dense around Mosaic's 3 s budget so p95/p99 are read to within a few hundred ms there.
 * Explicit bounds: https://cloud.google.com/monitoring/api/ref_v3/rest/v3/TypedValue#explicit
 */
export const LATENCY_BOUNDS_MS = [25, 50, 100, 200, 300, 500, 750, 1000, 1500, 2000, 2500, 3000, 4000, 6000, 10000];
/** Delivery time buckets in seconds: most OTPs land within seconds; OTP_VALIDITY_S defaults to 600. */
export const DELIVERY_BOUNDS_S = [1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800];

export function metricDefinitions(gatewayPath: string): MetricDefinition[] {
  return [
    {
      key: "sends",
      suffix: "sends",
      displayName: "SMS sends",
      description: "One per send request, by provider, destination country and outcome.",
      match: event(LOG_EVENTS.send),
      labels: ["provider", "country", "outcome"],
    },
    {
      key: "sendLatency",
      suffix: "send_latency",
      displayName: "SMS send latency",
      description: "Arrival of the send request to the gateway's answer, in ms.",
      match: event(LOG_EVENTS.send),
      labels: ["provider", "outcome"],
      distribution: { field: SEND_FIELDS.latencyMs, unit: "ms", bounds: LATENCY_BOUNDS_MS },
    },
    {
      key: "receipts",
      suffix: "receipts",
      displayName: "SMS delivery receipts",
      description: "Verified provider delivery receipts, by provider, country, status and provider error code.",
      match: event(LOG_EVENTS.receipt),
      labels: ["provider", "country", "status", "error_code"],
    },
    {
      key: "deliveryTime",
      suffix: "delivery_time",
      displayName: "SMS time to delivery",
      description: "Seconds from the send to the handset's delivery report.",
      match: `${event(LOG_EVENTS.receipt)} AND ${field(RECEIPT_FIELDS.status)}="delivered" AND ${field(RECEIPT_FIELDS.deliverySeconds)}:*`,
      labels: ["provider", "country"],
      distribution: { field: RECEIPT_FIELDS.deliverySeconds, unit: "s", bounds: DELIVERY_BOUNDS_S },
    },
    {
      key: "failovers",
      suffix: "failovers",
      displayName: "SMS failovers",
      description: "Sends on which a second provider was tried.",
      match: `${event(LOG_EVENTS.send)} AND ${field(SEND_FIELDS.failover)}=true`,
      labels: ["provider", "country", "route"],
    },
    {
      key: "unauthorized",
      suffix: "unauthorized",
      displayName: "401s on the gateway path",
      description: "Requests refused for a missing or wrong X-API-Key: a key mismatch after a rotation, or probing.",
      // The gateway's own access log logs the path alone; Cloud Run's request log has the full URL, so the
      // equality also keeps its copy of the same request from being counted twice.
      match: `log_id("run.googleapis.com/stdout") AND ${ACCESS_LOG_FIELDS.status}=401 AND ${ACCESS_LOG_FIELDS.requestUrl}="${gatewayPath}"`,
      labels: [],
    },
    {
      key: "duplicates",
      suffix: "duplicates_suppressed",
      displayName: "Duplicate sends suppressed",
      description: "Repeats of a send the gateway answered from its dedupe record instead of sending again.",
      match: `${event(LOG_EVENTS.send)} AND ${field(SEND_FIELDS.outcome)}="deduplicated"`,
      labels: ["provider"],
    },
    {
      key: "refusals",
      suffix: "limit_refusals",
      displayName: "Sends refused by limits",
      description: "Sends refused by the rate limits or the country allow-list.",
      match: `${event(LOG_EVENTS.send)} AND ${anyOf(field(SEND_FIELDS.outcome), SEND_REFUSAL_OUTCOMES)}`,
      labels: ["outcome", "country"],
    },
  ];
}

/** Restricts a metric to the gateway's Cloud Run services (each name once: the regional services of a
 * multi-region stack share one name, told apart by the `location` label). */
export function metricFilter(definition: MetricDefinition, serviceNames: readonly string[]): string {
  const services = [...new Set(serviceNames)].map((s) => `resource.labels.service_name="${s}"`).join(" OR ");
  return `resource.type="cloud_run_revision" AND (${services}) AND ${definition.match}`;
}

export function labelExtractors(definition: MetricDefinition): Record<string, string> {
  return Object.fromEntries(definition.labels.map((l) => [l, `EXTRACT(${field(LABEL_SOURCES[l].field)})`]));
}

export function labelDescriptors(definition: MetricDefinition) {
  return definition.labels.map((key) => ({ key, valueType: "STRING", description: LABEL_SOURCES[key].description }));
}

export function valueExtractor(definition: MetricDefinition): string | undefined {
  return definition.distribution ? `EXTRACT(${field(definition.distribution.field)})` : undefined;
}

/** Log-based metric names: up to 100 characters from a restricted set, `/` for hierarchy (logging API docs). */
export function metricName(prefix: string, definition: MetricDefinition): string {
  return `${prefix}/${definition.suffix}`;
}

export function metricType(name: string): string {
  return `logging.googleapis.com/user/${name}`;
}

// ---- Monitoring filters and aggregations, shared by the alerts and the dashboard ----

export interface Aggregation {
  alignmentPeriod: string;
  perSeriesAligner: string;
  crossSeriesReducer?: string;
  groupByFields?: string[];
}

/** A Monitoring filter on one log-based metric, optionally narrowed by label values (regex full match). */
export function seriesFilter(type: string, labels: Partial<Record<LabelKey, readonly string[]>> = {}): string {
  const clauses = [`metric.type="${type}"`, `resource.type="cloud_run_revision"`];
  for (const [key, values] of Object.entries(labels)) {
    // https://cloud.google.com/monitoring/api/v3/filters: monitoring.regex.full_match on a label value.
    clauses.push(`metric.labels.${key}=monitoring.regex.full_match("${values!.join("|")}")`);
  }
  return clauses.join(" AND ");
}

/** Counts in a window, summed over every label (one series). */
export function sumOver(period: string, groupBy: string[] = []): Aggregation {
  return { alignmentPeriod: period, perSeriesAligner: "ALIGN_DELTA", crossSeriesReducer: "REDUCE_SUM", groupByFields: groupBy };
}

/** A percentile of a distribution metric across all its series: merge the distributions, then read it. */
export function percentileOver(period: string, percentile: 50 | 95 | 99, groupBy: string[] = []): Aggregation {
  return {
    alignmentPeriod: period,
    perSeriesAligner: "ALIGN_DELTA",
    crossSeriesReducer: `REDUCE_PERCENTILE_${String(percentile).padStart(2, "0")}`,
    groupByFields: groupBy,
  };
}

export const FAILURE_OUTCOMES = SEND_FAILURE_OUTCOMES;
export const FINAL_RECEIPT_STATUSES = RECEIPT_FINAL_STATUSES;
