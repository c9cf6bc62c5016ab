// Operations for the gateway as one component: log-based metrics from the lines the gateway writes, alert
// policies with an optional e-mail channel, an uptime check on the health path and a dashboard — all named from
// one prefix so each stack gets its own set. Usable on its own:
//   new Observability("observability", { namePrefix: "sms-gateway-prod", serviceNames: [service.name], ... })
//
// Input names are @pulumi/gcp 9's (checked by the type checker against node_modules/@pulumi/gcp, and against
// the Terraform provider's docs it wraps: website/docs/r/logging_metric, monitoring_alert_policy,
// monitoring_uptime_check_config, monitoring_dashboard, monitoring_notification_channel in
// hashicorp/terraform-provider-google).

import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { alertSpecs, dashboardJson, uptimeCondition, type MetricTypes } from "./observabilityDashboard.js";
import {
  DEFAULT_THRESHOLDS,
  labelDescriptors,
  labelExtractors,
  metricDefinitions,
  metricFilter,
  metricName,
  metricType,
  thresholdProblems,
  valueExtractor,
  type MetricKey,
  type ObservabilityThresholds,
} from "./observabilityModel.js";

/**
 * The health endpoint. Cloud Run reserves some URL paths ending in `z` and advises avoiding them all
 * (https://cloud.google.com/run/docs/issues, "Reserved URL paths"): hence `/health`, not `/healthz`.
 */
export const DEFAULT_HEALTH_PATH = "/health";

export interface ObservabilityArgs {
  /** Prefix of every name (metrics, policies, check, dashboard): one per stack, e.g. `sms-gateway-prod`. */
  namePrefix: string;
  /** The Cloud Run service(s) whose logs are counted: one per region when the gateway runs in several. */
  serviceNames: pulumi.Input<string>[];
  /** The gateway's send path (GATEWAY_PATH, default `/send-sms`): 401s are counted there only. */
  gatewayPath: string;
  /** Uptime check target: the public host (no scheme, no path) and the health path (default `/health`). */
  health: { host: pulumi.Input<string>; path?: string };
  /** Where alerts are e-mailed; without it the policies still open incidents in the console. */
  notificationEmail?: string;
  /** Alert thresholds; each one left out takes its default (observabilityModel.ts, DEFAULT_THRESHOLDS). */
  thresholds?: Partial<ObservabilityThresholds>;
  /** The project the uptime check probes in; default: the stack's `gcp:project`. */
  project?: pulumi.Input<string>;
  /** What every child waits for (the enabled logging and monitoring APIs): a component's own `dependsOn` does not
   * order its children. */
  dependsOn?: pulumi.Input<pulumi.Resource>[];
}

const PREFIX = /^[a-z][a-z0-9-]{0,62}$/;
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

/** Every problem with the arguments at once, before anything is created. */
export function observabilityArgsProblems(args: ObservabilityArgs): string[] {
  const problems: string[] = [];
  if (!PREFIX.test(args.namePrefix)) {
    problems.push("namePrefix must start with a lowercase letter and use lowercase letters, digits and hyphens (at most 63)");
  }
  if (args.serviceNames.length === 0) problems.push("serviceNames must name at least one Cloud Run service");
  if (!/^\/[A-Za-z0-9._~\-/]*$/.test(args.gatewayPath)) problems.push("gatewayPath must be a URL path starting with /");
  const health = args.health.path ?? DEFAULT_HEALTH_PATH;
  if (!/^\/[A-Za-z0-9._~\-/]*$/.test(health)) problems.push("health.path must be a URL path starting with /");
  else if (health.endsWith("z")) problems.push(`health.path ${health} ends in z: Cloud Run reserves such paths`);
  if (args.notificationEmail !== undefined && !EMAIL.test(args.notificationEmail)) {
    problems.push("notificationEmail must be an e-mail address");
  }
  if (args.project === undefined && !gcp.config.project) problems.push("project (or gcp:project) is required for the uptime check");
  problems.push(...thresholdProblems({ ...DEFAULT_THRESHOLDS, ...args.thresholds }));
  return problems;
}

export class Observability extends pulumi.ComponentResource {
  readonly metrics: Record<MetricKey, gcp.logging.Metric>;
  readonly alertPolicies: gcp.monitoring.AlertPolicy[];
  readonly uptimeCheck: gcp.monitoring.UptimeCheckConfig;
  readonly dashboard: gcp.monitoring.Dashboard;
  readonly notificationChannel: gcp.monitoring.NotificationChannel | undefined;

  constructor(name: string, args: ObservabilityArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mosaic-sms-gateway:index:Observability", name, {}, opts);
    const problems = observabilityArgsProblems(args);
    if (problems.length > 0) throw new Error(`invalid Observability arguments:\n  - ${problems.join("\n  - ")}`);
    const parent = this;
    const dependsOn = args.dependsOn ?? [];
    const prefix = args.namePrefix;
    const thresholds = { ...DEFAULT_THRESHOLDS, ...args.thresholds };

    const definitions = metricDefinitions(args.gatewayPath);
    const metrics = {} as Record<MetricKey, gcp.logging.Metric>;
    const types = {} as MetricTypes;
    for (const definition of definitions) {
      const metric = metricName(prefix, definition);
      types[definition.key] = metricType(metric);
      metrics[definition.key] = new gcp.logging.Metric(
        `${name}-${definition.suffix}`,
        {
          name: metric,
          description: definition.description,
          filter: pulumi.all(args.serviceNames).apply((services) => metricFilter(definition, services)),
          metricDescriptor: {
            metricKind: "DELTA",
            valueType: definition.distribution ? "DISTRIBUTION" : "INT64",
            unit: definition.distribution?.unit ?? "1",
            displayName: definition.displayName,
            labels: labelDescriptors(definition),
          },
          labelExtractors: labelExtractors(definition),
          ...(definition.distribution && {
            valueExtractor: valueExtractor(definition),
            bucketOptions: { explicitBuckets: { bounds: definition.distribution.bounds } },
          }),
        },
        { parent, dependsOn },
      );
    }
    this.metrics = metrics;
    // Alerts and charts on a metric type that does not exist yet are refused: create the metrics first.
    const afterMetrics = { parent, dependsOn: [...dependsOn, ...Object.values(metrics)] };

    this.notificationChannel =
      args.notificationEmail === undefined
        ? undefined
        : new gcp.monitoring.NotificationChannel(
            `${name}-email`,
            { displayName: `${prefix}: SMS gateway alerts`, type: "email", labels: { email_address: args.notificationEmail } },
            { parent, dependsOn },
          );
    const notificationChannels = this.notificationChannel ? [this.notificationChannel.name] : [];

    this.alertPolicies = alertSpecs(types, thresholds).map(
      (spec) =>
        new gcp.monitoring.AlertPolicy(
          `${name}-${spec.key}`,
          {
            displayName: `${prefix}: ${spec.displayName}`,
            combiner: spec.combiner,
            conditions: spec.conditions,
            notificationChannels,
            documentation: { content: spec.documentation, mimeType: "text/markdown" },
            // An incident closes itself once the condition has cleared for this long.
            alertStrategy: { autoClose: "1800s" },
          },
          afterMetrics,
        ),
    );

    const healthPath = args.health.path ?? DEFAULT_HEALTH_PATH;
    this.uptimeCheck = new gcp.monitoring.UptimeCheckConfig(
      `${name}-health`,
      {
        displayName: `${prefix}: gateway ${healthPath}`,
        timeout: "10s",
        period: "60s",
        httpCheck: {
          path: healthPath,
          port: 443,
          useSsl: true,
          validateSsl: true,
          requestMethod: "GET",
          acceptedResponseStatusCodes: [{ statusValue: 200 }],
        },
        monitoredResource: {
          type: "uptime_url",
          labels: { project_id: args.project ?? gcp.config.project!, host: args.health.host },
        },
      },
      { parent, dependsOn },
    );
    this.alertPolicies.push(
      new gcp.monitoring.AlertPolicy(
        `${name}-uptime`,
        {
          displayName: `${prefix}: SMS gateway health check failing`,
          combiner: "OR",
          conditions: [this.uptimeCheck.uptimeCheckId.apply(uptimeCondition)],
          notificationChannels,
          documentation: {
            content: `GET ${healthPath} on the gateway fails from several regions: Mosaic cannot reach it either.`,
            mimeType: "text/markdown",
          },
          alertStrategy: { autoClose: "1800s" },
        },
        { parent, dependsOn },
      ),
    );

    this.dashboard = new gcp.monitoring.Dashboard(
      `${name}-dashboard`,
      { dashboardJson: dashboardJson(`${prefix}: SMS gateway`, types, thresholds) },
      afterMetrics,
    );
    this.registerOutputs({ dashboard: this.dashboard.id, uptimeCheckId: this.uptimeCheck.uptimeCheckId });
  }
}
