// The stack's configuration, parsed once into a typed object. Pure: it reads through a `ConfigSource`, so tests
// pass plain maps and `index.ts` passes `pulumi.Config`. Every problem is collected and reported at once, each
// naming its fully qualified key (`mosaic-sms-gateway:…`, `gcp:…`) so the fix is `pulumi config set <that key>`.

import type * as pulumi from "@pulumi/pulumi";
import { REGIONS, type Region } from "../scripts/register/regions.js";

export const PROJECT = "mosaic-sms-gateway";

/** Reads one namespace of stack config. `S` is how a secret value is carried (a `pulumi.Output<string>` in a
 * program, a plain string in tests): the parser never looks inside a secret, it only checks it is present. */
export interface ConfigSource<S> {
  get(key: string): string | undefined;
  getSecret(key: string): S | undefined;
}

/** Adapts `pulumi.Config`: an empty value counts as unset (Pulumi.yaml gives optional keys a "" default),
 * and a secret is returned as a secret Output. */
export function fromPulumiConfig(config: pulumi.Config): ConfigSource<pulumi.Output<string>> {
  return {
    get: (name) => config.get(name) || undefined,
    getSecret: (name) => (config.get(name) ? config.requireSecret(name) : undefined),
  };
}

export const RUNTIMES = ["node", "deno"] as const;
export type Runtime = (typeof RUNTIMES)[number];

export const PUBLIC_ACCESS = ["invoker-iam-disabled", "all-users"] as const;
export type PublicAccess = (typeof PUBLIC_ACCESS)[number];

/** The project keys that hold a secret: each is read with getSecret and declared `secret: true` in Pulumi.yaml
 * (infra/test/config.test.ts checks both), so Pulumi refuses to run with one set in plain text. */
export const SECRET_CONFIG_KEYS = ["twilioAuthToken", "mosaicClientSecret"] as const;
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

/** Exactly one way for Twilio to pick the sender. */
export type TwilioSender = { fromNumber: string } | { messagingServiceSid: string };

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
  twilioAccountSid: string;
  twilioAuthToken: S;
  twilioSender: TwilioSender;
  /** Send with Mosaic's `sender_id` as an alphanumeric sender when present. Default false. */
  twilioUseSenderId: boolean;
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

const key = (name: string) => `${PROJECT}:${name}`;

/** Parses and validates the whole configuration; throws one `ConfigError` listing every problem. */
export function parseConfig<S>(project: ConfigSource<S>, gcp: ConfigSource<S>, stack: string): GatewayConfig<S> {
  const problems: string[] = [];
  const r = new Reader(project, problems);

  const gcpProject = gcp.get("project");
  if (!gcpProject) problems.push("gcp:project is required: the Google Cloud project to deploy into");
  const gcpRegion = gcp.get("region");
  if (!gcpRegion) problems.push("gcp:region is required: the Cloud Run region, e.g. us-central1");

  const twilioAccountSid = r.required("twilioAccountSid");
  if (twilioAccountSid && !/^AC[0-9a-fA-F]{32}$/.test(twilioAccountSid)) {
    problems.push(`${key("twilioAccountSid")} must look like AC followed by 32 hex digits`);
  }
  const twilioAuthToken = r.requiredSecret("twilioAuthToken");
  const twilioSender = parseSender(r, problems);

  const minInstances = r.integer("minInstances", 1, 0, 1000);
  const maxInstances = r.integer("maxInstances", 10, 1, 1000);
  if (minInstances > maxInstances) {
    problems.push(`${key("minInstances")} (${minInstances}) cannot exceed ${key("maxInstances")} (${maxInstances})`);
  }

  const gatewayPath = r.get("gatewayPath") ?? "/send-sms";
  if (!/^\/[A-Za-z0-9._~\-/]*$/.test(gatewayPath)) {
    problems.push(`${key("gatewayPath")} must be a URL path starting with "/"`);
  }

  const image = r.get("image");
  const config = {
    stack,
    gcpProject: gcpProject ?? "",
    gcpRegion: gcpRegion ?? "",
    twilioAccountSid: twilioAccountSid ?? "",
    twilioAuthToken: twilioAuthToken as S,
    twilioSender,
    twilioUseSenderId: r.boolean("twilioUseSenderId", false),
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
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

function parseSender<S>(r: Reader<S>, problems: string[]): TwilioSender {
  const fromNumber = r.get("twilioFromNumber");
  const messagingServiceSid = r.get("twilioMessagingServiceSid");
  if (fromNumber && messagingServiceSid) {
    problems.push(`Only one of ${key("twilioFromNumber")} and ${key("twilioMessagingServiceSid")} can be set`);
  } else if (!fromNumber && !messagingServiceSid) {
    problems.push(`One of ${key("twilioFromNumber")} or ${key("twilioMessagingServiceSid")} is required`);
  }
  if (messagingServiceSid) {
    if (!/^MG[0-9a-fA-F]{32}$/.test(messagingServiceSid)) {
      problems.push(`${key("twilioMessagingServiceSid")} must look like MG followed by 32 hex digits`);
    }
    return { messagingServiceSid };
  }
  // E.164 (+15551234567) or a short code (5–6 digits): the two kinds of number Twilio accepts as `From`.
  if (fromNumber && !/^(\+[1-9]\d{6,14}|\d{5,6})$/.test(fromNumber)) {
    problems.push(`${key("twilioFromNumber")} must be an E.164 number like +15551234567 or a short code`);
  }
  return { fromNumber: fromNumber ?? "" };
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

/** A Google Cloud region name, e.g. us-central1, europe-west4, northamerica-northeast2. */
const REGION = /^[a-z]+-[a-z]+[0-9]+$/;

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
    if (isHttpUrl(baseUrl)) resolved = baseUrl.replace(/\/+$/, "");
    else problems.push(`${key("mosaicBaseUrl")} must be an http(s) URL`);
  }
  const missing = [
    ...(r.get("mosaicClientId") ? [] : ["mosaicClientId"]),
    ...(r.getSecret("mosaicClientSecret") === undefined ? ["mosaicClientSecret"] : []),
  ];
  if (missing.length > 0) {
    problems.push(
      `${missing.map(key).join(" and ")} ${missing.length > 1 ? "are" : "is"} required while ` +
        `${key("registerWithMosaic")} is true (a Management Application's credentials); ` +
        `set them, or set ${key("registerWithMosaic")} to false to register later with \`npm run register\``,
    );
  }
  return { baseUrl: resolved, clientId: r.get("mosaicClientId") ?? "", clientSecret: r.getSecret("mosaicClientSecret") as S };
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === "https:" || url.protocol === "http:";
  } catch {
    return false;
  }
}

/** Typed accessors over one config namespace that record problems instead of throwing. */
class Reader<S> {
  constructor(
    private readonly source: ConfigSource<S>,
    private readonly problems: string[],
  ) {}

  get(name: string): string | undefined {
    const value = this.source.get(name);
    return value === undefined ? undefined : value.trim();
  }

  getSecret(name: SecretConfigKey): S | undefined {
    return this.source.getSecret(name);
  }

  required(name: string): string | undefined {
    const value = this.get(name);
    if (!value) this.problems.push(`${key(name)} is required`);
    return value;
  }

  requiredSecret(name: SecretConfigKey): S | undefined {
    const value = this.getSecret(name);
    if (value === undefined) this.problems.push(`${key(name)} is required (set it with --secret)`);
    return value;
  }

  boolean(name: string, fallback: boolean): boolean {
    const value = this.get(name);
    if (value === undefined || value === "") return fallback;
    if (value === "true") return true;
    if (value === "false") return false;
    this.problems.push(`${key(name)} must be true or false (got "${value}")`);
    return fallback;
  }

  integer(name: string, fallback: number, min: number, max: number): number {
    const value = this.get(name);
    if (value === undefined || value === "") return fallback;
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) {
      this.problems.push(`${key(name)} must be an integer from ${min} to ${max} (got "${value}")`);
      return fallback;
    }
    return n;
  }

  oneOf<const T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const value = this.get(name);
    if (value === undefined || value === "") return fallback;
    if ((allowed as readonly string[]).includes(value)) return value as T;
    this.problems.push(`${key(name)} must be one of ${allowed.join(", ")} (got "${value}")`);
    return fallback;
  }
}
