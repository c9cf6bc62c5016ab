// The stack's configuration, parsed once into a typed object. Pure: it reads through a `ConfigSource`, so tests
// pass plain maps and `index.ts` passes `pulumi.Config`. Every problem is collected and reported at once, each
// naming its fully qualified key (`mosaic-sms-gateway:…`, `gcp:…`) so the fix is `pulumi config set <that key>`.

import { secretSafeUrlProblem } from "../gateway/src/config.js";
import { REGIONS, type Region } from "../scripts/register/regions.js";
import { key, PROJECT, Reader, type ConfigSource } from "./configReader.js";
import { parseDelivery, PROVIDER_SECRET_KEYS, type DeliveryConfig } from "./delivery.js";
import { gatewayProblems, PUBLIC_BASE_URL_PLACEHOLDER, REDIS_PLACEHOLDER, SECRET_PLACEHOLDER } from "./gatewayCheck.js";
import { gatewayEnv } from "./gatewayEnv.js";
import { parseObservability, parseReceipts, type ObservabilityConfig, type ReceiptsConfig } from "./operations.js";
import { parseProtection, type ProtectionConfig } from "./protection.js";
import { parseTopology, REGION, topologyRegions, type Topology } from "./regions.js";

export { fromPulumiConfig, PROJECT, type ConfigSource } from "./configReader.js";

export const RUNTIMES = ["node", "deno"] as const;
export type Runtime = (typeof RUNTIMES)[number];

export const PUBLIC_ACCESS = ["invoker-iam-disabled", "all-users"] as const;
export type PublicAccess = (typeof PUBLIC_ACCESS)[number];

/** The project keys that hold a secret: each is read with getSecret, which refuses a value stored in plain text,
 * and is declared `secret: true` in Pulumi.yaml (infra/test/config.test.ts checks both). Each is optional there:
 * only the providers in use (and Mosaic registration) need theirs. */
export const SECRET_CONFIG_KEYS = [...PROVIDER_SECRET_KEYS, "mosaicClientSecret"] as const;
export type SecretConfigKey = (typeof SECRET_CONFIG_KEYS)[number];

/** Where Secret Manager keeps the secrets' payloads: anywhere Google picks, or only in the named regions
 * (https://cloud.google.com/secret-manager/docs/choosing-replication). */
export type SecretReplication = { kind: "automatic" } | { kind: "user-managed"; locations: string[] };

/** The gateway's API key: `generation` names the current key; the one before it is still accepted unless
 * `retiredGeneration` has reached it (see infra/apiKeys.ts). */
export interface ApiKeyConfig {
  generation: number;
  retiredGeneration: number;
}

/** Mosaic API base URLs by region: the registration CLI's own table, so `--region` and `mosaicRegion` agree. */
export const MOSAIC_REGIONS = REGIONS;
export type MosaicRegion = Region;

export interface MosaicRegistrationConfig<S> {
  /** Resolved from `mosaicRegion` or `mosaicBaseUrl`; default the US region. */
  baseUrl: string;
  clientId: string;
  clientSecret: S;
}

export interface GatewayConfig<S> {
  /** The Pulumi stack: part of every project-unique resource id (infra/naming.ts). */
  stack: string;
  gcpProject: string;
  gcpRegion: string;
  /** One region (`gcp:region`, today's deploy) or several behind the load balancer (infra/regions.ts). */
  topology: Topology;
  /** Providers, routes and failover (infra/delivery.ts). */
  delivery: DeliveryConfig<S>;
  /** Where dedupe and limits keep their state, and their settings (infra/protection.ts). */
  protection: ProtectionConfig;
  /** Delivery receipts' settings for the gateway (infra/operations.ts). */
  receipts: ReceiptsConfig;
  /** Metrics, alerts, uptime check, dashboard (infra/operations.ts, infra/observability.ts). */
  observability: ObservabilityConfig;
  /** Which container image to build. Default `node`. */
  runtime: Runtime;
  /** A prebuilt image reference; when set nothing is built and no registry is created. */
  image: string | undefined;
  /** URL path the gateway serves Mosaic on. Default `/send-sms`. */
  gatewayPath: string;
  /** Default 1: a cold start costs an OTP its deadline. */
  minInstances: number;
  /** Default 10. */
  maxInstances: number;
  /** Requests per instance. Default 80. */
  concurrency: number;
  /** Default `invoker-iam-disabled`, which works under Domain Restricted Sharing. */
  publicAccess: PublicAccess;
  /** Default true: `pulumi destroy` then needs it set to false first. */
  deletionProtection: boolean;
  /** Default generation 1, nothing retired. */
  apiKey: ApiKeyConfig;
  /** Default automatic. */
  secretReplication: SecretReplication;
  /** Present when `registerWithMosaic` (default true). */
  mosaic: MosaicRegistrationConfig<S> | undefined;
}

export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(readonly problems: readonly string[]) {
    super(`Invalid stack configuration:\n  - ${problems.join("\n  - ")}`);
  }
}

/** Parses and validates the whole configuration; throws one `ConfigError` listing every problem. */
export function parseConfig<S>(project: ConfigSource<S>, gcp: ConfigSource<S>, stack: string): GatewayConfig<S> {
  const problems: string[] = [];
  const r = new Reader(project, problems);

  const gcpProject = gcp.get("project");
  if (!gcpProject) problems.push("gcp:project is required: the Google Cloud project to deploy into");
  const gcpRegion = gcp.get("region");
  if (!gcpRegion) problems.push("gcp:region is required: the Cloud Run region, e.g. us-central1");

  const delivery = parseDelivery(r);

  const minInstances = r.integer("minInstances", 1, 0, 1000);
  const maxInstances = r.integer("maxInstances", 10, 1, 1000);
  if (minInstances > maxInstances) {
    problems.push(`${key("minInstances")} (${minInstances}) cannot exceed ${key("maxInstances")} (${maxInstances})`);
  }

  // Checked by the gateway's own rules with the rest of its environment (below).
  const gatewayPath = r.get("gatewayPath") ?? "/send-sms";

  const image = r.get("image");
  const { topology, problems: topologyProblems } = parseTopology(project, gcpRegion);
  problems.push(...topologyProblems);
  const protection = parseProtection(r, topologyRegions(topology), maxInstances);
  const config = {
    stack,
    gcpProject: gcpProject ?? "",
    gcpRegion: gcpRegion ?? "",
    topology,
    delivery,
    protection,
    receipts: parseReceipts(r),
    observability: parseObservability(r),
    // Default deno: with the same bundle, Deno cold-starts faster (83 vs 101 ms) and serves ~1.9x the POSTs of
    // Node; Node idles in ~4 MiB less (bench/RESULTS.md). Both pass the same correctness suites.
    runtime: r.oneOf("runtime", RUNTIMES, "deno"),
    image: image === "" ? undefined : image,
    gatewayPath,
    minInstances,
    maxInstances,
    concurrency: r.integer("concurrency", 80, 1, 1000),
    publicAccess: r.oneOf("publicAccess", PUBLIC_ACCESS, "invoker-iam-disabled"),
    deletionProtection: r.boolean("deletionProtection", true),
    apiKey: parseApiKey(r, problems),
    secretReplication: parseReplication(r, problems),
    mosaic: parseMosaic(r, problems),
  };
  const redis = protection.sharedState.kind === "redis" ? REDIS_PLACEHOLDER : undefined;
  problems.push(
    ...gatewayProblems(gatewayEnv({ config, secrets: placeholderSecrets(config), redis, publicBaseUrl: PUBLIC_BASE_URL_PLACEHOLDER })),
  );
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** A reference for each secret the configuration uses, for the startup check: it never reads a secret's value. */
function placeholderSecrets(config: Pick<GatewayConfig<unknown>, "delivery" | "protection">) {
  const ref = { secret: SECRET_PLACEHOLDER, version: "1" };
  const { twilio, smc, telnyx } = config.delivery;
  return {
    apiKey: ref,
    ...(config.protection.sharedState.kind === "redis" && { redisPassword: ref, protectionSecret: ref }),
    ...(twilio && { twilioAuthToken: ref }),
    ...(smc && { smcClientSecret: ref }),
    ...(telnyx && { telnyxApiKey: ref }),
  };
}

function parseApiKey<S>(r: Reader<S>, problems: string[]): ApiKeyConfig {
  const generation = r.integer("apiKeyGeneration", 1, 1, 1_000_000);
  const retiredGeneration = r.integer("apiKeyRetiredGeneration", 0, 0, 1_000_000);
  if (retiredGeneration >= generation) {
    problems.push(
      `${key("apiKeyRetiredGeneration")} (${retiredGeneration}) must be below ${key("apiKeyGeneration")} (${generation}): ` +
        "the current key cannot be retired; to replace it, raise apiKeyGeneration",
    );
  }
  return { generation, retiredGeneration };
}

function parseReplication<S>(r: Reader<S>, problems: string[]): SecretReplication {
  const raw = r.get("secretReplicaLocations") ?? "";
  const locations = [...new Set(raw.split(",").map((l) => l.trim()).filter((l) => l !== ""))].sort();
  if (locations.length === 0) return { kind: "automatic" };
  const bad = locations.filter((l) => !REGION.test(l));
  if (bad.length > 0) {
    problems.push(`${key("secretReplicaLocations")} must be comma-separated region names like europe-west1 (got ${bad.map((b) => `"${b}"`).join(", ")})`);
  }
  return { kind: "user-managed", locations };
}

function parseMosaic<S>(r: Reader<S>, problems: string[]): MosaicRegistrationConfig<S> | undefined {
  if (!r.boolean("registerWithMosaic", true)) return undefined;
  const region = r.get("mosaicRegion");
  const baseUrl = r.get("mosaicBaseUrl");
  let resolved: string = MOSAIC_REGIONS.us;
  if (region && baseUrl) {
    problems.push(`Only one of ${key("mosaicRegion")} and ${key("mosaicBaseUrl")} can be set`);
  } else if (region) {
    if (Object.hasOwn(MOSAIC_REGIONS, region)) resolved = MOSAIC_REGIONS[region as MosaicRegion];
    else problems.push(`${key("mosaicRegion")} must be one of ${Object.keys(MOSAIC_REGIONS).join(", ")} (got "${region}")`);
  } else if (baseUrl) {
    // The registration CLI (scripts/register) refuses what secretSafeUrlProblem refuses: refuse it here, at preview.
    if (secretSafeUrlProblem(baseUrl) === undefined) resolved = baseUrl.replace(/\/+$/, "");
    else problems.push(`${key("mosaicBaseUrl")} must be an http(s) URL (https, or http on loopback only; no credentials in it)`);
  }
  const clientSecret = r.getSecret("mosaicClientSecret");
  const missing = [
    ...(r.get("mosaicClientId") ? [] : ["mosaicClientId"]),
    ...(clientSecret === undefined ? ["mosaicClientSecret"] : []),
  ];
  if (missing.length > 0) {
    problems.push(
      `${missing.map(key).join(" and ")} ${missing.length > 1 ? "are" : "is"} required while ` +
        `${key("registerWithMosaic")} is true (a Management Application's credentials); ` +
        `set them, or set ${key("registerWithMosaic")} to false to register later with \`npm run register\``,
    );
  }
  return { baseUrl: resolved, clientId: r.get("mosaicClientId") ?? "", clientSecret: clientSecret as S };
}
