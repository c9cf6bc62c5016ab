// The metric definitions against the lines the gateway really writes: each log-based metric's filter is
// evaluated (a small evaluator for the subset of the Logging query language the filters use) on LogEntries built
// from the gateway's own receipt line builder and from an sms.send line spelled with logEvents.ts's names.

import { describe, expect, test } from "vitest";
import {
  EVENT_FIELD,
  LOG_EVENTS,
  RECEIPT_FIELDS,
  SEND_FIELDS,
  SEND_REFUSAL_OUTCOMES,
  type SendOutcomeName,
} from "../../gateway/src/logEvents.js";
import { receiptLogFields, type Receipt } from "../../gateway/src/receipts/receipt.js";
import {
  DEFAULT_THRESHOLDS,
  labelExtractors,
  metricDefinitions,
  metricFilter,
  metricName,
  thresholdProblems,
  type MetricDefinition,
  type MetricKey,
} from "../observabilityModel.js";

const SERVICES = ["sms-gateway-prod", "sms-gateway-prod-eu"];
const DEFINITIONS = metricDefinitions("/send-sms");

/** A LogEntry as Cloud Logging stores a structured stdout line from Cloud Run (special fields lifted out). */
function logEntry(line: Record<string, unknown>, service = SERVICES[0]!, log = "run.googleapis.com/stdout") {
  const { httpRequest, severity, message: _message, ...jsonPayload } = line;
  return {
    logName: `projects/p/logs/${encodeURIComponent(log)}`,
    resource: { type: "cloud_run_revision", labels: { service_name: service } },
    severity,
    ...(httpRequest !== undefined && { httpRequest }),
    jsonPayload,
  };
}

function get(entry: unknown, path: string): unknown {
  return path.split(".").reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], entry);
}

/** Splits on a keyword at parenthesis depth 0, outside quotes. */
function splitTop(text: string, keyword: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') quoted = !quoted;
    else if (!quoted && c === "(") depth++;
    else if (!quoted && c === ")") depth--;
    else if (!quoted && depth === 0 && text.startsWith(` ${keyword} `, i)) {
      parts.push(text.slice(start, i));
      start = i + keyword.length + 2;
    }
  }
  parts.push(text.slice(start));
  return parts.map((p) => p.trim());
}

/** The Logging query language subset the metric filters use: AND, OR, ( ), =, :*, log_id(). */
function matches(filter: string, entry: unknown): boolean {
  const ands = splitTop(filter, "AND");
  if (ands.length > 1) return ands.every((part) => matches(part, entry));
  const ors = splitTop(filter, "OR");
  if (ors.length > 1) return ors.some((part) => matches(part, entry));
  const clause = filter.trim();
  if (clause.startsWith("(") && clause.endsWith(")")) return matches(clause.slice(1, -1), entry);
  const logId = /^log_id\("(.+)"\)$/.exec(clause);
  if (logId) return (entry as { logName: string }).logName.endsWith(`/logs/${encodeURIComponent(logId[1]!)}`);
  const exists = /^([\w.]+):\*$/.exec(clause);
  if (exists) return get(entry, exists[1]!) !== undefined;
  const eq = /^([\w.]+)=(?:"([^"]*)"|(\S+))$/.exec(clause);
  if (!eq) throw new Error(`evaluator does not know: ${clause}`);
  const actual = get(entry, eq[1]!);
  return eq[2] !== undefined ? actual === eq[2] : String(actual) === eq[3];
}

function definition(key: MetricKey): MetricDefinition {
  return DEFINITIONS.find((d) => d.key === key)!;
}

/** An sms.send line as ARCH.md specifies it, spelled with logEvents.ts's constants. */
function sendLine(outcome: SendOutcomeName, extra: Record<string, unknown> = {}) {
  return {
    severity: "INFO",
    message: `send ${outcome}`,
    [EVENT_FIELD]: LOG_EVENTS.send,
    [SEND_FIELDS.provider]: "twilio",
    [SEND_FIELDS.country]: "GB",
    [SEND_FIELDS.outcome]: outcome,
    [SEND_FIELDS.latencyMs]: 412,
    [SEND_FIELDS.attempts]: [{ provider: "twilio", outcome, latencyMs: 410 }],
    [SEND_FIELDS.failover]: false,
    [SEND_FIELDS.route]: "default",
    ...extra,
  };
}

const RECEIPT: Receipt = {
  provider: "telnyx",
  providerMessageId: "msg-1",
  status: "delivered",
  providerErrorCode: undefined,
  deliverySeconds: 2.5,
  country: "GB",
  destination: "+44********56",
};
const receiptLine = (r: Partial<Receipt> = {}) => ({ severity: "INFO", message: "receipt", ...receiptLogFields({ ...RECEIPT, ...r }) });

const accessLine = (status: number, path = "/send-sms") => ({
  severity: "WARNING",
  message: `POST ${path} ${status}`,
  httpRequest: { requestMethod: "POST", requestUrl: path, status, latency: "0.002s" },
  latencyMs: 2,
});

describe("each metric counts exactly the lines it is named for", () => {
  const lines: [string, Record<string, unknown>][] = [
    ["send sent", sendLine("sent")],
    ["send with failover", sendLine("sent", { [SEND_FIELDS.failover]: true })],
    ["send deduplicated", sendLine("deduplicated")],
    ["send rate_limited", sendLine("rate_limited")],
    ["send country_not_allowed", sendLine("country_not_allowed")],
    ["send provider_rejected", sendLine("provider_rejected")],
    ["receipt delivered", receiptLine()],
    ["receipt failed", receiptLine({ status: "failed", providerErrorCode: "30008", deliverySeconds: undefined })],
    ["401 on the gateway path", accessLine(401)],
    ["401 on another path", accessLine(401, "/receipts/twilio")],
    ["200 on the gateway path", accessLine(200)],
  ];
  const expected: Record<MetricKey, string[]> = {
    sends: ["send sent", "send with failover", "send deduplicated", "send rate_limited", "send country_not_allowed", "send provider_rejected"],
    sendLatency: ["send sent", "send with failover", "send deduplicated", "send rate_limited", "send country_not_allowed", "send provider_rejected"],
    receipts: ["receipt delivered", "receipt failed"],
    deliveryTime: ["receipt delivered"],
    failovers: ["send with failover"],
    unauthorized: ["401 on the gateway path"],
    duplicates: ["send deduplicated"],
    refusals: ["send rate_limited", "send country_not_allowed"],
  };

  test.each(Object.entries(expected))("%s", (key, names) => {
    const filter = metricFilter(definition(key as MetricKey), SERVICES);
    expect(lines.filter(([, line]) => matches(filter, logEntry(line))).map(([name]) => name)).toEqual(names);
  });

  test("only the gateway's services count, and not Cloud Run's own request log", () => {
    const filter = metricFilter(definition("sends"), SERVICES);
    expect(matches(filter, logEntry(sendLine("sent"), SERVICES[1]))).toBe(true);
    expect(matches(filter, logEntry(sendLine("sent"), "another-service"))).toBe(false);
    const unauthorized = metricFilter(definition("unauthorized"), SERVICES);
    expect(matches(unauthorized, logEntry(accessLine(401), SERVICES[0], "run.googleapis.com/requests"))).toBe(false);
  });

  test("refusals are exactly logEvents' refusal outcomes", () => {
    const filter = metricFilter(definition("refusals"), SERVICES);
    for (const outcome of SEND_REFUSAL_OUTCOMES) expect(matches(filter, logEntry(sendLine(outcome)))).toBe(true);
  });
});

describe("labels and values come from the gateway's field names", () => {
  test("every label extractor reads a jsonPayload field that logEvents.ts names", () => {
    const names = new Set<string>([...Object.values(SEND_FIELDS), ...Object.values(RECEIPT_FIELDS)]);
    for (const d of DEFINITIONS) {
      for (const extractor of Object.values(labelExtractors(d))) {
        const field = /^EXTRACT\(jsonPayload\.(\w+)\)$/.exec(extractor)?.[1];
        expect(names.has(field!), `${d.key}: ${extractor}`).toBe(true);
      }
    }
  });

  test("extracted label values on a real receipt line", () => {
    const entry = logEntry(receiptLine({ status: "undelivered", providerErrorCode: "30003", deliverySeconds: undefined }));
    const values = Object.fromEntries(
      Object.entries(labelExtractors(definition("receipts"))).map(([k, e]) => [k, get(entry, /^EXTRACT\((.+)\)$/.exec(e)![1]!)]),
    );
    expect(values).toEqual({ provider: "telnyx", country: "GB", status: "undelivered", error_code: "30003" });
  });

  test("distributions extract the latency and delivery-time fields", () => {
    expect(definition("sendLatency").distribution?.field).toBe(SEND_FIELDS.latencyMs);
    expect(definition("deliveryTime").distribution?.field).toBe(RECEIPT_FIELDS.deliverySeconds);
  });

  test("names are prefixed per stack and fit the 100-character limit", () => {
    for (const d of DEFINITIONS) {
      const name = metricName("a".repeat(63), d);
      expect(name.length).toBeLessThanOrEqual(100);
      expect(name).toMatch(/^[A-Za-z0-9_\-.,+!*'()%/]+$/);
    }
    expect(new Set(DEFINITIONS.map((d) => d.suffix)).size).toBe(DEFINITIONS.length);
  });
});

describe("thresholdProblems", () => {
  test("the defaults are valid", () => expect(thresholdProblems(DEFAULT_THRESHOLDS)).toEqual([]));
  test.each([
    [{ sendErrorRatio: 0 }, "sendErrorRatio must be a ratio between 0 and 1 (exclusive)"],
    [{ deliveryRatio: 1.2 }, "deliveryRatio must be a ratio between 0 and 1 (exclusive)"],
    [{ sendLatencyP99Ms: 0 }, "sendLatencyP99Ms must be from 1 to 30000"],
    [{ unauthorizedPer5Min: 2.5 }, "unauthorizedPer5Min must be a whole number, 0 or more"],
    [{ minVolume: -1 }, "minVolume must be a whole number, 0 or more"],
  ])("%o", (override, problem) => {
    expect(thresholdProblems({ ...DEFAULT_THRESHOLDS, ...override })).toEqual([problem]);
  });
});
