// The dashboard and the alert conditions, generated from the metric definitions in observabilityModel.ts: a
// metric renamed there renames every chart and alert that reads it. Pure; checked against Cloud Monitoring's
// Dashboard schema (the google.monitoring.dashboard.v1 protos) in infra/test/observabilityDashboard.test.ts.
//
// Dashboard JSON: https://cloud.google.com/monitoring/api/ref_v3/rest/v1/projects.dashboards (MosaicLayout,
// XyChart, TimeSeriesQuery, TimeSeriesFilter(Ratio), Threshold). Alert conditions:
// https://cloud.google.com/monitoring/api/ref_v3/rest/v3/projects.alertPolicies (MetricThreshold with an optional
// denominatorFilter for ratios).

import {
  FAILURE_OUTCOMES,
  FINAL_RECEIPT_STATUSES,
  MOSAIC_BUDGET_MS,
  percentileOver,
  seriesFilter,
  sumOver,
  type Aggregation,
  type MetricKey,
  type ObservabilityThresholds,
} from "./observabilityModel.js";

/** Metric types (`logging.googleapis.com/user/...`) by key, as created. */
export type MetricTypes = Record<MetricKey, string>;

const RATE_WINDOW = "300s";
const DELIVERY_WINDOW = "1800s";

// ---- Alerts ----

export interface ThresholdCondition {
  displayName: string;
  conditionThreshold: {
    filter: string;
    aggregations: Aggregation[];
    denominatorFilter?: string;
    denominatorAggregations?: Aggregation[];
    comparison: "COMPARISON_GT" | "COMPARISON_LT";
    thresholdValue: number;
    duration: string;
    trigger: { count: number };
  };
}

export interface AlertSpec {
  key: "sendErrors" | "deliveryRatio" | "sendLatency" | "unauthorized";
  displayName: string;
  /** AND: every condition must hold (a ratio only counts with enough volume). */
  combiner: "OR" | "AND";
  conditions: ThresholdCondition[];
  /** What the page says: markdown, for whoever is woken up. */
  documentation: string;
}

function threshold(
  displayName: string,
  filter: string,
  aggregation: Aggregation,
  comparison: "COMPARISON_GT" | "COMPARISON_LT",
  value: number,
  denominator?: string,
): ThresholdCondition {
  return {
    displayName,
    conditionThreshold: {
      filter,
      aggregations: [aggregation],
      ...(denominator !== undefined && { denominatorFilter: denominator, denominatorAggregations: [aggregation] }),
      comparison,
      thresholdValue: value,
      // One evaluation over the window is enough: the window itself (5 or 30 min) already smooths single blips.
      duration: "0s",
      trigger: { count: 1 },
    },
  };
}

export function alertSpecs(types: MetricTypes, t: ObservabilityThresholds): AlertSpec[] {
  const sends = seriesFilter(types.sends);
  const finalReceipts = seriesFilter(types.receipts, { status: FINAL_RECEIPT_STATUSES });
  return [
    {
      key: "sendErrors",
      displayName: "SMS gateway: send error ratio",
      combiner: "AND",
      conditions: [
        threshold(
          `Failed sends above ${t.sendErrorRatio * 100}% over 5 min`,
          seriesFilter(types.sends, { outcome: FAILURE_OUTCOMES }),
          sumOver(RATE_WINDOW),
          "COMPARISON_GT",
          t.sendErrorRatio,
          sends,
        ),
        threshold(`At least ${t.minVolume} sends in 5 min`, sends, sumOver(RATE_WINDOW), "COMPARISON_GT", t.minVolume - 1),
      ],
      documentation:
        `More than ${t.sendErrorRatio * 100}% of OTP sends failed at the provider (rejected, timed out, or outcome ` +
        "unknown). Open the dashboard: which provider and country? Provider status pages; the gateway's " +
        "`sms.send` log lines carry each attempt's provider error code.",
    },
    {
      key: "deliveryRatio",
      displayName: "SMS gateway: delivery ratio",
      combiner: "AND",
      conditions: [
        threshold(
          `Delivered below ${t.deliveryRatio * 100}% of final receipts over 30 min`,
          seriesFilter(types.receipts, { status: ["delivered"] }),
          sumOver(DELIVERY_WINDOW),
          "COMPARISON_LT",
          t.deliveryRatio,
          finalReceipts,
        ),
        threshold(`At least ${t.minVolume} final receipts in 30 min`, finalReceipts, sumOver(DELIVERY_WINDOW), "COMPARISON_GT", t.minVolume - 1),
      ],
      documentation:
        `Fewer than ${t.deliveryRatio * 100}% of OTPs with a final receipt were delivered: users are not getting ` +
        "their codes. The dashboard's receipts chart shows the failing provider, country and error code.",
    },
    {
      key: "sendLatency",
      displayName: "SMS gateway: p99 send latency near Mosaic's budget",
      combiner: "OR",
      conditions: [
        threshold(
          `p99 send latency above ${t.sendLatencyP99Ms} ms over 5 min`,
          seriesFilter(types.sendLatency),
          percentileOver(RATE_WINDOW, 99),
          "COMPARISON_GT",
          t.sendLatencyP99Ms,
        ),
      ],
      documentation:
        `The slowest 1% of sends took over ${t.sendLatencyP99Ms} ms; Mosaic gives up at ${MOSAIC_BUDGET_MS} ms. ` +
        "Check the provider's latency and the gateway's instance count.",
    },
    {
      key: "unauthorized",
      displayName: "SMS gateway: burst of 401s",
      combiner: "OR",
      conditions: [
        threshold(
          `More than ${t.unauthorizedPer5Min} 401s in 5 min`,
          seriesFilter(types.unauthorized),
          sumOver(RATE_WINDOW),
          "COMPARISON_GT",
          t.unauthorizedPer5Min,
        ),
      ],
      documentation:
        "Requests with a missing or wrong X-API-Key. Right after a key rotation: Mosaic still has the old key " +
        "(re-register). Otherwise someone is probing the gateway.",
    },
  ];
}

/**
 * The uptime check's alert, in the form Cloud Monitoring creates for uptime checks: page when more than one
 * checker region sees the check fail (https://cloud.google.com/monitoring/uptime-checks/uptime-alerting-policies).
 */
export function uptimeCondition(checkId: string): ThresholdCondition {
  return {
    displayName: "Health check failing from more than one region",
    conditionThreshold: {
      filter: `metric.type="monitoring.googleapis.com/uptime_check/check_passed" AND metric.labels.check_id="${checkId}" AND resource.type="uptime_url"`,
      aggregations: [
        { alignmentPeriod: "1200s", perSeriesAligner: "ALIGN_NEXT_OLDER", crossSeriesReducer: "REDUCE_COUNT_FALSE", groupByFields: ["resource.label.*"] },
      ],
      comparison: "COMPARISON_GT",
      thresholdValue: 1,
      duration: "60s",
      trigger: { count: 1 },
    },
  };
}

// ---- Dashboard ----

interface DataSet {
  timeSeriesQuery: {
    timeSeriesFilter?: { filter: string; aggregation: Aggregation };
    timeSeriesFilterRatio?: {
      numerator: { filter: string; aggregation: Aggregation };
      denominator: { filter: string; aggregation: Aggregation };
    };
  };
  plotType: "LINE" | "STACKED_BAR" | "STACKED_AREA";
  legendTemplate?: string;
  minAlignmentPeriod: string;
  targetAxis: "Y1";
}

interface Widget {
  title: string;
  xyChart: {
    dataSets: DataSet[];
    thresholds?: { label: string; value: number; color: "RED" | "YELLOW"; direction: "ABOVE" | "BELOW"; targetAxis: "Y1" }[];
    yAxis: { label: string; scale: "LINEAR" };
  };
}

const CHART_WINDOW = "60s";

function series(filter: string, aggregation: Aggregation, plotType: DataSet["plotType"], legend?: string): DataSet {
  return {
    timeSeriesQuery: { timeSeriesFilter: { filter, aggregation } },
    plotType,
    ...(legend && { legendTemplate: legend }),
    minAlignmentPeriod: aggregation.alignmentPeriod,
    targetAxis: "Y1",
  };
}

function ratio(numerator: string, denominator: string, aggregation: Aggregation): DataSet {
  return {
    timeSeriesQuery: {
      timeSeriesFilterRatio: { numerator: { filter: numerator, aggregation }, denominator: { filter: denominator, aggregation } },
    },
    plotType: "LINE",
    minAlignmentPeriod: aggregation.alignmentPeriod,
    targetAxis: "Y1",
  };
}

function chart(title: string, yLabel: string, dataSets: DataSet[], thresholds: Widget["xyChart"]["thresholds"] = []): Widget {
  return { title, xyChart: { dataSets, ...(thresholds.length > 0 && { thresholds }), yAxis: { label: yLabel, scale: "LINEAR" } } };
}

export function dashboardWidgets(types: MetricTypes, t: ObservabilityThresholds): Widget[] {
  const by = (label: string) => [`metric.label.${label}`];
  const deliveredRatio = (label: string) =>
    ratio(
      seriesFilter(types.receipts, { status: ["delivered"] }),
      seriesFilter(types.receipts, { status: FINAL_RECEIPT_STATUSES }),
      sumOver(RATE_WINDOW, by(label)),
    );
  return [
    chart("Sends per provider", "sends/min", [series(seriesFilter(types.sends), sumOver(CHART_WINDOW, by("provider")), "STACKED_BAR")]),
    chart("Sends by outcome", "sends/min", [series(seriesFilter(types.sends), sumOver(CHART_WINDOW, by("outcome")), "STACKED_BAR")]),
    chart("Delivery ratio per provider (delivered / final receipts)", "ratio", [deliveredRatio("provider")], [
      { label: "alert", value: t.deliveryRatio, color: "RED", direction: "BELOW", targetAxis: "Y1" },
    ]),
    chart("Delivery ratio per country", "ratio", [deliveredRatio("country")], [
      { label: "alert", value: t.deliveryRatio, color: "RED", direction: "BELOW", targetAxis: "Y1" },
    ]),
    chart(
      "Send latency percentiles against Mosaic's 3 s budget",
      "ms",
      ([50, 95, 99] as const).map((p) => series(seriesFilter(types.sendLatency), percentileOver(CHART_WINDOW, p), "LINE", `p${p}`)),
      [
        { label: "Mosaic gives up", value: MOSAIC_BUDGET_MS, color: "RED", direction: "ABOVE", targetAxis: "Y1" },
        { label: "p99 alert", value: t.sendLatencyP99Ms, color: "YELLOW", direction: "ABOVE", targetAxis: "Y1" },
      ],
    ),
    chart("Sends per country", "sends/min", [series(seriesFilter(types.sends), sumOver(CHART_WINDOW, by("country")), "STACKED_BAR")]),
    chart("Receipts by status", "receipts/min", [series(seriesFilter(types.receipts), sumOver(CHART_WINDOW, by("status")), "STACKED_BAR")]),
    chart(
      "Time to delivery (send → delivered receipt)",
      "s",
      ([50, 95] as const).map((p) => series(seriesFilter(types.deliveryTime), percentileOver(RATE_WINDOW, p), "LINE", `p${p}`)),
    ),
    chart("Failures by provider error code", "receipts/min", [
      series(seriesFilter(types.receipts, { status: ["undelivered", "failed"] }), sumOver(CHART_WINDOW, by("error_code")), "STACKED_BAR"),
    ]),
    chart("Failovers per route", "sends/min", [series(seriesFilter(types.failovers), sumOver(CHART_WINDOW, by("route")), "STACKED_BAR")]),
    chart("Refusals: limits, allow-list, duplicates suppressed", "sends/min", [
      series(seriesFilter(types.refusals), sumOver(CHART_WINDOW, by("outcome")), "STACKED_BAR"),
      series(seriesFilter(types.duplicates), sumOver(CHART_WINDOW), "STACKED_BAR", "deduplicated"),
    ]),
    chart("401s on the gateway path", "requests/min", [series(seriesFilter(types.unauthorized), sumOver(CHART_WINDOW), "STACKED_BAR")], [
      { label: "alert (per 5 min)", value: t.unauthorizedPer5Min, color: "RED", direction: "ABOVE", targetAxis: "Y1" },
    ]),
  ];
}

/** Mosaic layout: a 48-column grid (its maximum), two charts per row, each 24 wide and 16 high. */
export function dashboardJson(displayName: string, types: MetricTypes, t: ObservabilityThresholds): string {
  const tiles = dashboardWidgets(types, t).map((widget, i) => ({
    xPos: (i % 2) * 24,
    yPos: Math.floor(i / 2) * 16,
    width: 24,
    height: 16,
    widget,
  }));
  return JSON.stringify({ displayName, mosaicLayout: { columns: 48, tiles } });
}
