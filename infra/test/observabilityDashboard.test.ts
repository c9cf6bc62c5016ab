// The generated dashboard against Cloud Monitoring's own Dashboard schema: the google.monitoring.dashboard.v1
// protos as Google ships them in @google-cloud/monitoring-dashboards (build/protos/protos.json, field options
// included). Every key must be a field of its message, every (google.api.field_behavior) = REQUIRED field must be
// present, at most one field of a oneof, enum values from the enum, durations as "<n>s".

import { createRequire } from "node:module";
import protobuf from "protobufjs";
import { describe, expect, test } from "vitest";
import { alertSpecs, dashboardJson, dashboardWidgets, uptimeCondition, type MetricTypes } from "../observabilityDashboard.js";
import { DEFAULT_THRESHOLDS, metricDefinitions, metricName, metricType } from "../observabilityModel.js";

const require = createRequire(import.meta.url);
const root = protobuf.Root.fromJSON(require("@google-cloud/monitoring-dashboards/build/protos/protos.json"));
const DASHBOARD = root.lookupType("google.monitoring.dashboard.v1.Dashboard");

const TYPES = Object.fromEntries(
  metricDefinitions("/send-sms").map((d) => [d.key, metricType(metricName("sms-gateway-test", d))]),
) as MetricTypes;

function schemaProblems(type: protobuf.Type, value: unknown, path: string): string[] {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return [`${path}: expected a ${type.name} object`];
  const object = value as Record<string, unknown>;
  const problems: string[] = [];
  for (const key of Object.keys(object)) {
    if (!type.fields[key]) problems.push(`${path}.${key}: ${type.name} has no such field`);
  }
  for (const field of type.fieldsArray) {
    const v = object[field.name];
    const required = field.options?.["(google.api.field_behavior)"] === "REQUIRED";
    if (v === undefined) {
      if (required) problems.push(`${path}.${field.name}: required by ${type.name}`);
      continue;
    }
    if (field.repeated) {
      if (!Array.isArray(v)) problems.push(`${path}.${field.name}: expected a list`);
      else {
        if (required && v.length === 0) problems.push(`${path}.${field.name}: required, empty`);
        v.forEach((item, i) => problems.push(...valueProblems(field, item, `${path}.${field.name}[${i}]`)));
      }
    } else problems.push(...valueProblems(field, v, `${path}.${field.name}`));
  }
  for (const oneof of type.oneofsArray) {
    const set = oneof.fieldsArray.filter((f) => object[f.name] !== undefined).map((f) => f.name);
    if (set.length > 1) problems.push(`${path}: only one of ${set.join(", ")} (oneof ${oneof.name})`);
  }
  return problems;
}

function valueProblems(field: protobuf.Field, v: unknown, path: string): string[] {
  const resolved = field.resolve().resolvedType;
  if (resolved instanceof protobuf.Enum) {
    return typeof v === "string" && v in resolved.values ? [] : [`${path}: ${JSON.stringify(v)} is not a ${resolved.name}`];
  }
  if (resolved instanceof protobuf.Type) {
    if (resolved.fullName === ".google.protobuf.Duration") {
      return typeof v === "string" && /^\d+(\.\d+)?s$/.test(v) ? [] : [`${path}: durations are "<seconds>s"`];
    }
    return schemaProblems(resolved, v, path);
  }
  const expected = field.type === "bool" ? "boolean" : field.type === "string" ? "string" : "number";
  return typeof v === expected || (expected === "number" && field.type.endsWith("64") && typeof v === "string")
    ? []
    : [`${path}: expected ${field.type}`];
}

describe("the dashboard JSON against the Dashboard schema", () => {
  const json = JSON.parse(dashboardJson("sms-gateway-test: SMS gateway", TYPES, DEFAULT_THRESHOLDS));

  test("has no unknown field, no missing required field, no double oneof, no bad enum", () => {
    expect(schemaProblems(DASHBOARD, json, "dashboard")).toEqual([]);
  });

  test("the checker itself catches each kind of mistake", () => {
    const broken = structuredClone(json);
    delete broken.displayName;
    broken.mosaicLayout.tiles[0].widget.xyChart.dataSets[0].plotType = "PIE";
    broken.mosaicLayout.tiles[0].widget.xyChart.dataSets[0].timeSeriesQuery.timeSeriesFilter.filtre = "x";
    delete broken.mosaicLayout.tiles[1].widget.xyChart.dataSets[0].timeSeriesQuery.timeSeriesFilter.filter;
    broken.gridLayout = { widgets: [] };
    broken.mosaicLayout.tiles[2].widget.xyChart.dataSets[0].minAlignmentPeriod = "1m";
    expect(schemaProblems(DASHBOARD, broken, "dashboard").sort()).toEqual(
      [
        "dashboard.displayName: required by Dashboard",
        'dashboard.mosaicLayout.tiles[0].widget.xyChart.dataSets[0].plotType: "PIE" is not a PlotType',
        "dashboard.mosaicLayout.tiles[0].widget.xyChart.dataSets[0].timeSeriesQuery.timeSeriesFilter.filtre: TimeSeriesFilter has no such field",
        "dashboard.mosaicLayout.tiles[1].widget.xyChart.dataSets[0].timeSeriesQuery.timeSeriesFilter.filter: required by TimeSeriesFilter",
        'dashboard.mosaicLayout.tiles[2].widget.xyChart.dataSets[0].minAlignmentPeriod: durations are "<seconds>s"',
        "dashboard: only one of gridLayout, mosaicLayout (oneof layout)",
      ].sort(),
    );
  });

  test("tiles sit inside the 48-column grid without overlapping", () => {
    const { columns, tiles } = json.mosaicLayout;
    const cells = new Set<string>();
    for (const tile of tiles) {
      expect(tile.xPos + tile.width).toBeLessThanOrEqual(columns);
      for (let x = tile.xPos; x < tile.xPos + tile.width; x++) {
        for (let y = tile.yPos; y < tile.yPos + tile.height; y++) {
          expect(cells.has(`${x},${y}`)).toBe(false);
          cells.add(`${x},${y}`);
        }
      }
    }
  });
});

describe("one source of truth", () => {
  // Over serialised JSON, where the filters' quotes are escaped.
  const referenced = (text: string) => [...text.matchAll(/metric\.type=\\"([^"\\]+)\\"/g)].map((m) => m[1]);

  test("every metric the dashboard and the alerts read is one the component creates, and every metric is shown", () => {
    const created = new Set(Object.values(TYPES));
    const dashboard = referenced(dashboardJson("d", TYPES, DEFAULT_THRESHOLDS));
    const alerts = referenced(JSON.stringify(alertSpecs(TYPES, DEFAULT_THRESHOLDS)));
    for (const type of [...dashboard, ...alerts]) expect(created.has(type!), type).toBe(true);
    expect(new Set(dashboard)).toEqual(created);
  });

  test("the latency chart draws Mosaic's 3 s budget and the alert threshold", () => {
    const latency = dashboardWidgets(TYPES, { ...DEFAULT_THRESHOLDS, sendLatencyP99Ms: 2200 }).find((w) => w.title.startsWith("Send latency"))!;
    expect(latency.xyChart.thresholds?.map((t) => t.value)).toEqual([3000, 2200]);
    expect(latency.xyChart.dataSets.map((d) => d.timeSeriesQuery.timeSeriesFilter?.aggregation.crossSeriesReducer)).toEqual([
      "REDUCE_PERCENTILE_50",
      "REDUCE_PERCENTILE_95",
      "REDUCE_PERCENTILE_99",
    ]);
  });
});

describe("alert conditions", () => {
  const specs = Object.fromEntries(alertSpecs(TYPES, DEFAULT_THRESHOLDS).map((s) => [s.key, s]));

  test("send error ratio: failure outcomes over all sends, only with enough volume", () => {
    const [ratio, volume] = specs.sendErrors!.conditions;
    expect(specs.sendErrors!.combiner).toBe("AND");
    expect(ratio!.conditionThreshold.filter).toContain(`metric.labels.outcome=monitoring.regex.full_match("provider_rejected|outcome_unknown|provider_timeout")`);
    expect(ratio!.conditionThreshold.denominatorFilter).toBe(`metric.type="${TYPES.sends}" AND resource.type="cloud_run_revision"`);
    expect(ratio!.conditionThreshold).toMatchObject({ comparison: "COMPARISON_GT", thresholdValue: 0.05 });
    expect(volume!.conditionThreshold).toMatchObject({ comparison: "COMPARISON_GT", thresholdValue: 19 });
  });

  test("delivery ratio: delivered over final receipts (unconfirmed left out), below the threshold", () => {
    const [ratio] = specs.deliveryRatio!.conditions;
    expect(ratio!.conditionThreshold.denominatorFilter).toContain(`monitoring.regex.full_match("delivered|undelivered|failed")`);
    expect(ratio!.conditionThreshold).toMatchObject({ comparison: "COMPARISON_LT", thresholdValue: 0.9 });
  });

  test("p99 latency and 401 bursts follow their thresholds", () => {
    expect(specs.sendLatency!.conditions[0]!.conditionThreshold).toMatchObject({
      thresholdValue: 2500,
      aggregations: [{ perSeriesAligner: "ALIGN_DELTA", crossSeriesReducer: "REDUCE_PERCENTILE_99" }],
    });
    expect(specs.unauthorized!.conditions[0]!.conditionThreshold).toMatchObject({ thresholdValue: 20, comparison: "COMPARISON_GT" });
  });

  test("the uptime condition watches its own check", () => {
    expect(uptimeCondition("gw-health-abc").conditionThreshold.filter).toBe(
      'metric.type="monitoring.googleapis.com/uptime_check/check_passed" AND metric.labels.check_id="gw-health-abc" AND resource.type="uptime_url"',
    );
  });
});
