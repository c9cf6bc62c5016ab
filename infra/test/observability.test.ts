// The Observability component on its own under Pulumi's mocks (infra/index.ts composes it; wiring.test.ts checks
// that): every resource it registers, with its inputs, parent and dependencies.

import * as pulumi from "@pulumi/pulumi";
import { describe, expect, test } from "vitest";
import { LOG_EVENTS } from "../../gateway/src/logEvents.js";
import { Observability, observabilityArgsProblems, type ObservabilityArgs } from "../observability.js";
import { mocks } from "./mocks.js";
import { recordRegistrations } from "./program.js";

const METRIC = "gcp:logging/metric:Metric";
const POLICY = "gcp:monitoring/alertPolicy:AlertPolicy";
const UPTIME = "gcp:monitoring/uptimeCheckConfig:UptimeCheckConfig";
const DASHBOARD = "gcp:monitoring/dashboard:Dashboard";
const CHANNEL = "gcp:monitoring/notificationChannel:NotificationChannel";

const ARGS: ObservabilityArgs = {
  namePrefix: "sms-gateway-prod",
  serviceNames: ["sms-gateway-prod"],
  gatewayPath: "/send-sms",
  health: { host: "sms-gateway-prod-abc123-uc.a.run.app" },
};


/** Ids the real provider computes, where the component reads them back. */
const withIds: pulumi.runtime.Mocks = {
  newResource(args) {
    const result = mocks.newResource(args) as { id: string; state: Record<string, any> };
    if (args.type === UPTIME) result.state = { ...result.state, uptimeCheckId: `${args.inputs.displayName}-id`.replace(/\W+/g, "-") };
    if (args.type === CHANNEL) result.state = { ...result.state, name: "projects/test-project/notificationChannels/42" };
    if (args.type === DASHBOARD) result.id = "projects/123456789012/dashboards/d-1";
    return result;
  },
  call: mocks.call,
};

async function build(args: ObservabilityArgs) {
  pulumi.runtime.setAllConfig({ "gcp:project": "test-project" });
  await pulumi.runtime.setMocks(withIds, "mosaic-sms-gateway", "prod", false);
  const resources = recordRegistrations();
  try {
    const component = new Observability("observability", args);
    await new Promise((resolve) => pulumi.output(component.dashboard.id).apply(resolve));
  } finally {
    await pulumi.runtime.disconnect();
  }
  const byType = (type: string) => resources.filter((r) => r.type === type);
  return { resources, byType, one: (type: string) => byType(type)[0]! };
}

describe("a stack with defaults", async () => {
  const run = await build(ARGS);

  test("eight log-based metrics, named per stack, counting only the gateway's service", () => {
    const metrics = run.byType(METRIC);
    expect(metrics.map((m) => m.inputs.name).sort()).toEqual(
      ["delivery_time", "duplicates_suppressed", "failovers", "limit_refusals", "receipts", "send_latency", "sends", "unauthorized"]
        .map((s) => `sms-gateway-prod/${s}`)
        .sort(),
    );
    for (const m of metrics) {
      expect(m.inputs.filter).toMatch(/^resource\.type="cloud_run_revision" AND \(resource\.labels\.service_name="sms-gateway-prod"\) AND /);
      expect(Object.keys(m.inputs.labelExtractors ?? {}).sort()).toEqual(
        (m.inputs.metricDescriptor.labels ?? []).map((l: { key: string }) => l.key).sort(),
      );
      expect(m.inputs.metricDescriptor.metricKind).toBe("DELTA");
    }
  });

  test("the send and receipt metrics filter on logEvents.ts's event names", () => {
    const byName = (suffix: string) => run.byType(METRIC).find((m) => m.inputs.name.endsWith(`/${suffix}`))!.inputs;
    expect(byName("sends").filter).toContain(`jsonPayload.event="${LOG_EVENTS.send}"`);
    expect(byName("receipts").filter).toContain(`jsonPayload.event="${LOG_EVENTS.receipt}"`);
    expect(byName("unauthorized").filter).toContain('httpRequest.status=401 AND httpRequest.requestUrl="/send-sms"');
  });

  test("latency and delivery time are distributions with explicit buckets", () => {
    for (const [suffix, field, unit] of [
      ["send_latency", "latencyMs", "ms"],
      ["delivery_time", "deliverySeconds", "s"],
    ]) {
      const m = run.byType(METRIC).find((r) => r.inputs.name.endsWith(`/${suffix}`))!.inputs;
      expect(m.metricDescriptor).toMatchObject({ valueType: "DISTRIBUTION", unit });
      expect(m.valueExtractor).toBe(`EXTRACT(jsonPayload.${field})`);
      expect(m.bucketOptions.explicitBuckets.bounds.length).toBeGreaterThan(5);
    }
  });

  test("five alert policies, no notification channel without an e-mail", () => {
    const policies = run.byType(POLICY);
    expect(policies.map((p) => p.inputs.displayName).sort()).toEqual([
      "sms-gateway-prod: SMS gateway health check failing",
      "sms-gateway-prod: SMS gateway: burst of 401s",
      "sms-gateway-prod: SMS gateway: delivery ratio",
      "sms-gateway-prod: SMS gateway: p99 send latency near Mosaic's budget",
      "sms-gateway-prod: SMS gateway: send error ratio",
    ]);
    expect(run.byType(CHANNEL)).toEqual([]);
    for (const p of policies) {
      expect(p.inputs.notificationChannels ?? []).toEqual([]);
      expect(p.inputs.documentation.mimeType).toBe("text/markdown");
    }
  });

  test("metric alerts and the dashboard are created after the metrics they read", () => {
    const metricUrns = run.byType(METRIC).map((m) => m.urn);
    const dependents = [...run.byType(POLICY).filter((p) => !p.name.endsWith("-uptime")), run.one(DASHBOARD)];
    for (const r of dependents) for (const urn of metricUrns) expect(r.dependencies).toContain(urn);
  });

  test("the uptime check GETs /health over https on the public host, and its alert watches that check", () => {
    const check = run.one(UPTIME).inputs;
    expect(check.httpCheck).toMatchObject({ path: "/health", port: 443, useSsl: true, validateSsl: true, requestMethod: "GET" });
    expect(check.monitoredResource).toEqual({
      type: "uptime_url",
      labels: { project_id: "test-project", host: "sms-gateway-prod-abc123-uc.a.run.app" },
    });
    const alert = run.byType(POLICY).find((p) => p.name === "observability-uptime")!;
    expect(alert.inputs.conditions[0].conditionThreshold.filter).toContain('metric.labels.check_id="sms-gateway-prod-gateway-health-id"');
  });

  test("the dashboard's JSON names the stack and reads the stack's metrics", () => {
    const json = JSON.parse(run.one(DASHBOARD).inputs.dashboardJson);
    expect(json.displayName).toBe("sms-gateway-prod: SMS gateway");
    expect(JSON.stringify(json)).toContain('metric.type=\\"logging.googleapis.com/user/sms-gateway-prod/sends\\"');
  });

  test("every resource is a child of the component", () => {
    const component = run.resources.find((r) => r.type === "mosaic-sms-gateway:index:Observability")!;
    for (const r of run.resources.filter((r) => r !== component)) expect(r.parent).toBe(component.urn);
  });
});

describe("configured", () => {
  test("an e-mail creates one channel that every policy notifies", async () => {
    const run = await build({ ...ARGS, notificationEmail: "oncall@example.com" });
    expect(run.one(CHANNEL).inputs).toMatchObject({ type: "email", labels: { email_address: "oncall@example.com" } });
    for (const p of run.byType(POLICY)) expect(p.inputs.notificationChannels).toEqual(["projects/test-project/notificationChannels/42"]);
  });

  test("thresholds and several regional services", async () => {
    const run = await build({
      ...ARGS,
      serviceNames: ["gw-us", "gw-eu"],
      thresholds: { sendErrorRatio: 0.1, sendLatencyP99Ms: 2000 },
    });
    expect(run.one(METRIC).inputs.filter).toContain('(resource.labels.service_name="gw-us" OR resource.labels.service_name="gw-eu")');
    const latency = run.byType(POLICY).find((p) => p.name === "observability-sendLatency")!;
    expect(latency.inputs.conditions[0].conditionThreshold.thresholdValue).toBe(2000);
    const errors = run.byType(POLICY).find((p) => p.name === "observability-sendErrors")!;
    expect(errors.inputs.conditions[0].conditionThreshold.thresholdValue).toBe(0.1);
  });

  test("two stacks' prefixes give disjoint names", async () => {
    const [a, b] = [await build(ARGS), await build({ ...ARGS, namePrefix: "sms-gateway-dev" })];
    const names = (run: typeof a) => run.byType(METRIC).map((m) => m.inputs.name);
    expect(names(a).filter((n) => names(b).includes(n))).toEqual([]);
  });
});

describe("invalid arguments fail before anything is created, each problem named", () => {
  test.each([
    [{ namePrefix: "SMS Gateway" }, "namePrefix must start with a lowercase letter and use lowercase letters, digits and hyphens (at most 63)"],
    [{ serviceNames: [] }, "serviceNames must name at least one Cloud Run service"],
    [{ health: { host: "h", path: "/healthz" } }, "health.path /healthz ends in z: Cloud Run reserves such paths"],
    [{ notificationEmail: "oncall" }, "notificationEmail must be an e-mail address"],
    [{ thresholds: { deliveryRatio: 90 } }, "deliveryRatio must be a ratio between 0 and 1 (exclusive)"],
  ])("%o", (override, problem) => {
    expect(observabilityArgsProblems({ ...ARGS, project: "p", ...override } as ObservabilityArgs)).toEqual([problem]);
  });

  test("the constructor throws them all at once", async () => {
    await expect(build({ ...ARGS, namePrefix: "X", serviceNames: [] })).rejects.toThrow(
      /namePrefix must start[\s\S]*serviceNames must name/,
    );
  });
});
