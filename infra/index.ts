// The stack: read the configuration and the source revision once, compose the components, export the outputs.
// Nothing else lives here.

import * as path from "node:path";
import { fileURLToPath } from "node:url";
import * as pulumi from "@pulumi/pulumi";
import { CertificateWait } from "./certificateWait.js";
import { fromPulumiConfig, parseConfig, PROJECT } from "./config.js";
import { isConfigSecretFunction } from "./configReader.js";
import { programRelative } from "./containerImage.js";
import { MosaicRegistration } from "./mosaicRegistration.js";
import { multiRegionEntry } from "./multiRegion.js";
import { NAME_LIMITS, stackNames } from "./naming.js";
import { Observability } from "./observability.js";
import { SmsGateway } from "./smsGateway.js";
import { readSourceRevision } from "./sourceRevision.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const config = parseConfig(
  fromPulumiConfig(new pulumi.Config(PROJECT), isConfigSecretFunction()),
  fromPulumiConfig(new pulumi.Config("gcp")),
  pulumi.getStack(),
);

const gateway = new SmsGateway("sms-gateway", { config, repoRoot, sourceRevision: readSourceRevision(repoRoot) });
const namePrefix = stackNames("sms-gateway", config.stack).id(undefined, NAME_LIMITS.rfc1035);

// Several regions: one global HTTPS load balancer with Cloud Armor in front of the regional services, and the
// registered URI becomes https://{domain}{gatewayPath}. One region: nothing (today's deploy, unchanged).
const entry = multiRegionEntry(config.topology, {
  namePrefix,
  gatewayPath: config.gatewayPath,
  services: gateway.services.map((s) => ({ region: s.region, service: s.service.name })),
});
// Until the managed certificate is ACTIVE, https://{domain} fails its TLS handshake: wait (bounded) before
// anything calls it, or stop with the DNS record to create.
const certificateWait =
  entry &&
  config.topology.kind === "multi-region" &&
  new CertificateWait("certificate", {
    project: config.gcpProject,
    certificateName: entry.loadBalancer.certificateName,
    domain: config.topology.domain,
    address: entry.loadBalancer.address,
    certificateId: entry.loadBalancer.certificate.id,
    dir: programRelative(repoRoot),
    after: entry.loadBalancer.ready,
  });
const gatewayUri = entry?.loadBalancer.uri ?? gateway.url;

// Metrics, alerts, the uptime check and the dashboard, named per stack, counting the gateway's service(s).
const observability = config.observability.enabled
  ? new Observability("observability", {
      namePrefix,
      serviceNames: gateway.services.map((s) => s.service.name),
      gatewayPath: config.gatewayPath,
      health: { host: gateway.publicBaseUrl.apply((url) => new URL(url).host) },
      ...(config.observability.alertEmail && { notificationEmail: config.observability.alertEmail }),
      thresholds: config.observability.thresholds,
      project: config.gcpProject,
      dependsOn: gateway.apis,
    })
  : undefined;

if (config.mosaic) {
  new MosaicRegistration("mosaic", {
    mosaicBaseUrl: config.mosaic.baseUrl,
    mosaicClientId: config.mosaic.clientId,
    mosaicClientSecret: config.mosaic.clientSecret,
    gatewayUri,
    apiKey: gateway.apiKey,
    dir: programRelative(repoRoot),
    gatewayReady: [...gateway.ready, ...(entry?.loadBalancer.ready ?? []), ...(certificateWait ? [certificateWait.command] : [])],
  });
}

// What an operator needs, and no secret value: the key is in Secret Manager (`apiKeySecretVersion`, which
// `npm run register -- --from-stack` reads).
export const url = gatewayUri;
export const service = gateway.service.name;
/** Every region the gateway runs in. */
export const regions = gateway.services.map((s) => s.region);
/** With several regions: the balancer's global IPv4 address (the A record of `domain`) and its managed
 * certificate (`gcloud compute ssl-certificates describe <name> --global`); null with one region. */
export const address = entry ? entry.loadBalancer.address : null;
export const certificateName = entry ? entry.loadBalancer.certificateName : null;
export const serviceAccount = gateway.serviceAccount;
export const image = gateway.image;
export const apiKeyGeneration = config.apiKey.generation;
export const apiKeySecret = gateway.apiKeySecret.secret.name;
export const apiKeySecretVersion = gateway.apiKeySecret.version.name;
export const acceptedApiKeysSecretVersion = gateway.acceptedApiKeysSecret.version.name;
/** The version each provider secret in use is pinned at, by provider (`twilio`, `smc`, `telnyx`). */
export const providerSecretVersions = gateway.providerSecretVersions;
export const mosaicRegistered = config.mosaic !== undefined;
/** Where the operator looks (README, Delivery receipts, metrics and alerts); `{ enabled: false }` with
 * `observability` off. */
export const monitoring = observability
  ? {
      enabled: true,
      dashboard: pulumi.interpolate`https://console.cloud.google.com/monitoring/dashboards/builder/${observability.dashboard.id.apply((id) => id.split("/").at(-1))}?project=${config.gcpProject}`,
      uptimeCheckId: observability.uptimeCheck.uptimeCheckId,
      alertEmail: config.observability.alertEmail ?? "none",
    }
  : { enabled: false };
