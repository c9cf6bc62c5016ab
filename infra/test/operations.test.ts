// Operations wired in (issue 13): the Observability component composed by the program for the stack's service,
// its keys and thresholds, and the receipts' settings in the gateway's environment — PUBLIC_BASE_URL the
// service's deterministic URL (no dependency on the service itself), OTP_VALIDITY_S, TELNYX_PUBLIC_KEY.

import { beforeAll, describe, expect, test } from "vitest";
import { deterministicServiceUrl } from "../smsGateway.js";
import { parseWith, problemsOf } from "./configParse.js";
import { PROJECT_NUMBER } from "./mocks.js";
import { runProgram, type ProgramRun } from "./program.js";

const P = "mosaic-sms-gateway";
const SERVICE = "gcp:cloudrunv2/service:Service";
const METRIC = "gcp:logging/metric:Metric";
const POLICY = "gcp:monitoring/alertPolicy:AlertPolicy";
const UPTIME = "gcp:monitoring/uptimeCheckConfig:UptimeCheckConfig";
const DASHBOARD = "gcp:monitoring/dashboard:Dashboard";
const CHANNEL = "gcp:monitoring/notificationChannel:NotificationChannel";
const APIS = "gcp:projects/service:Service";
const COMPONENT = "mosaic-sms-gateway:index:Observability";
const PUBLIC_URL = `https://sms-gateway-test-${PROJECT_NUMBER}.us-central1.run.app`;

describe("keys", () => {
  const parse = parseWith;
  const problems = problemsOf;

  test("thresholds and e-mail from config", () => {
    expect(
      parse({ alertEmail: "oncall@example.com", alertSendErrorRatio: "0.1", alertLatencyP99Ms: "2000", alertMinVolume: "50" }).observability,
    ).toEqual({
      enabled: true,
      alertEmail: "oncall@example.com",
      thresholds: { sendErrorRatio: 0.1, deliveryRatio: 0.9, sendLatencyP99Ms: 2000, unauthorizedPer5Min: 20, minVolume: 50 },
    });
    expect(parse({ observability: "false" }).observability.enabled).toBe(false);
    expect(parse({ otpValiditySeconds: "300", telnyxPublicKey: "k".repeat(43) + "=" }).receipts).toEqual({
      otpValiditySeconds: "300",
      telnyxPublicKey: "k".repeat(43) + "=",
    });
  });

  test.each([
    [{ alertSendErrorRatio: "5" }, `${P}:alertSendErrorRatio must be a ratio between 0 and 1 (exclusive)`],
    [{ alertDeliveryRatio: "ninety" }, `${P}:alertDeliveryRatio must be a number (got "ninety")`],
    [{ alertLatencyP99Ms: "40000" }, `${P}:alertLatencyP99Ms must be from 1 to 30000`],
    [{ alertUnauthorizedPer5Min: "2.5" }, `${P}:alertUnauthorizedPer5Min must be a whole number, 0 or more`],
    [{ alertEmail: "oncall" }, `${P}:alertEmail must be an e-mail address (got "oncall")`],
    [{ observability: "yes" }, `${P}:observability must be true or false (got "yes")`],
  ])("%o", (values, message) => {
    expect(problems(values)).toEqual([message]);
  });

  test.each([
    // The gateway's own rules (gateway/src/config.ts), named by key.
    [{ otpValiditySeconds: "0" }, `${P}:otpValiditySeconds must be a whole number from 1 to 36000`],
    [{ telnyxPublicKey: "not-a-key" }, `${P}:telnyxPublicKey must be the base64 Ed25519 public key from Telnyx`],
    [{ gatewayPath: "/receipts/sms" }, `${P}:gatewayPath must not be under /receipts/`],
  ])("%o, by the gateway's rules", (values, message) => {
    expect(problems(values).join("\n")).toContain(message);
  });
});

describe("the default stack", () => {
  let run: ProgramRun;
  beforeAll(async () => {
    run = await runProgram();
  });
  const env = () => Object.fromEntries(run.one(SERVICE).inputs.template.containers[0].envs.filter((e: any) => "value" in e).map((e: any) => [e.name, e.value]));

  test("PUBLIC_BASE_URL is the service's deterministic URL, known without the service (no cycle); OTP_VALIDITY_S 600", () => {
    expect(deterministicServiceUrl("sms-gateway-test", PROJECT_NUMBER, "us-central1")).toBe(PUBLIC_URL);
    expect(env()).toMatchObject({ PUBLIC_BASE_URL: PUBLIC_URL, OTP_VALIDITY_S: "600" });
    expect(env()).not.toHaveProperty("TELNYX_PUBLIC_KEY");
    expect(run.one(SERVICE).dependencies).not.toContain(run.one(SERVICE).urn);
  });

  test("Observability is composed: metrics count the stack's service, named per stack", () => {
    expect(run.byType(COMPONENT)).toHaveLength(1);
    const metrics = run.byType(METRIC);
    expect(metrics.length).toBeGreaterThan(5);
    for (const m of metrics) {
      expect(m.inputs.name).toMatch(/^sms-gateway-test\//);
      expect(m.inputs.filter).toContain('resource.labels.service_name="sms-gateway-test"');
    }
  });

  test("the uptime check probes /health on the host providers and Mosaic reach", () => {
    expect(run.one(UPTIME).inputs.monitoredResource).toEqual({
      type: "uptime_url",
      labels: { project_id: "test-project", host: new URL(PUBLIC_URL).host },
    });
    expect(run.one(UPTIME).inputs.httpCheck.path).toBe("/health");
  });

  test("every observability resource waits for the logging and monitoring APIs", () => {
    const apis = run.byType(APIS).filter((a) => ["logging.googleapis.com", "monitoring.googleapis.com"].includes(a.inputs.service));
    expect(apis).toHaveLength(2);
    const component = run.one(COMPONENT).urn;
    const children = run.resources.filter((r) => r.parent === component);
    expect(children.length).toBeGreaterThan(10);
    for (const child of children) for (const api of apis) expect(child.dependencies, child.name).toContain(api.urn);
  });

  test("no e-mail by default: no channel; the output says where to look", () => {
    expect(run.byType(CHANNEL)).toEqual([]);
    expect(run.outputs.monitoring).toMatchObject({ enabled: true, alertEmail: "none" });
    expect(run.outputs.monitoring.dashboard).toMatch(/^https:\/\/console\.cloud\.google\.com\/monitoring\/dashboards\/builder\/.+\?project=test-project$/);
  });
});

test("alert e-mail, thresholds and a Telnyx key reach the component and the gateway", async () => {
  const key = "aGVsbG8tdGhpcy1pcy1hLXRlc3Qta2V5LTMyYnl0ZXM=";
  const run = await runProgram({
    [`${P}:alertEmail`]: "oncall@example.com",
    [`${P}:alertLatencyP99Ms`]: "2000",
    [`${P}:otpValiditySeconds`]: "300",
    [`${P}:telnyxPublicKey`]: key,
  });
  expect(run.one(CHANNEL).inputs.labels).toEqual({ email_address: "oncall@example.com" });
  const latency = run.byType(POLICY).find((p) => p.name === "observability-sendLatency")!;
  expect(latency.inputs.conditions[0].conditionThreshold.thresholdValue).toBe(2000);
  const envs = run.one(SERVICE).inputs.template.containers[0].envs;
  expect(envs).toContainEqual({ name: "OTP_VALIDITY_S", value: "300" });
  expect(envs).toContainEqual({ name: "TELNYX_PUBLIC_KEY", value: key });
});

test("observability false: no metric, alert, check or dashboard, and no logging or monitoring API enabled", async () => {
  const run = await runProgram({ [`${P}:observability`]: "false" });
  for (const type of [COMPONENT, METRIC, POLICY, UPTIME, DASHBOARD, CHANNEL]) expect(run.byType(type)).toEqual([]);
  expect(run.byType(APIS).map((a) => a.inputs.service)).not.toContain("monitoring.googleapis.com");
  expect(run.outputs.monitoring).toEqual({ enabled: false });
});
