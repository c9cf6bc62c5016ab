// Where the gateway runs: one region (today's deploy, unchanged) or several behind one global HTTPS load balancer
// with Cloud Armor in front. Pure: it reads through the same `ConfigSource` as config.ts and returns its problems
// instead of throwing, so parseConfig can report them with its own, all at once, each naming its fully qualified
// key (`mosaic-sms-gateway:…`) so the fix is `pulumi config set <that key>`.

import { key, Reader, type ConfigSource } from "./configReader.js";

/** Cloud Armor throttle windows, in seconds. The API takes only these (Cloud Armor rate-limiting docs,
 * `rateLimitThreshold.intervalSec`); a value outside the list would fail at deploy time, not here. */
export const ARMOR_INTERVALS_SEC = [10, 30, 60, 120, 180, 240, 300, 600, 900, 1200, 1800, 2700, 3600] as const;
/** Throttle counts accepted by Cloud Armor: "The minimum value is 1 and the maximum value is 1,000,000"
 * (cloud.google.com/armor/docs/rate-limiting-overview). */
export const ARMOR_MAX_RATE_COUNT = 1_000_000;
/** Bounds of the request size cap. Below 1 KiB a real OTP (phone, sender, a 140-character message in UTF-8)
 * or a provider receipt no longer fits; above 1 MiB the cap protects nothing the gateway's own 16 KiB limit
 * (gateway/src/app.ts BODY_LIMIT) does not already refuse. */
export const ARMOR_MIN_REQUEST_BYTES = 1024;
export const ARMOR_MAX_REQUEST_BYTES = 1024 * 1024;

export interface ArmorSettings {
  /** Requests per client IP per interval before Cloud Armor answers 429. Default 6000 (100/s over 60 s). Every
   * OTP comes from a few Mosaic egress IPs, so this must exceed the tenant's peak rate per Mosaic IP. */
  rateLimitCount: number;
  /** The throttle window. Default 60. */
  rateLimitIntervalSec: number;
  /** Largest declared body (Content-Length) allowed on a POST. Default 16384, the gateway's own body limit. */
  maxRequestBytes: number;
  /** Log what each rule would do without enforcing any of them. Default false. */
  preview: boolean;
}

export const ARMOR_DEFAULTS: ArmorSettings = {
  rateLimitCount: 6000,
  rateLimitIntervalSec: 60,
  maxRequestBytes: 16 * 1024,
  preview: false,
};

/** One region deploys exactly what deploys today: one public Cloud Run service and its run.app URL. Several
 * regions put a service in each behind one global address, certificate and Cloud Armor policy. */
export type Topology =
  | { kind: "single-region"; region: string }
  | { kind: "multi-region"; regions: string[]; domain: string; armor: ArmorSettings };

export interface TopologyResult {
  topology: Topology;
  /** Empty when the settings are valid. */
  problems: string[];
}

/** The keys that only mean something with a load balancer, i.e. with two or more regions, and their defaults as
 * config text. Pulumi hands a key's Pulumi.yaml default to the program as if it were set, so a key counts as set
 * only when it differs from its default (`domain` has none). */
const BALANCER_KEYS: Record<string, string | undefined> = {
  domain: undefined,
  armorRateLimitCount: String(ARMOR_DEFAULTS.rateLimitCount),
  armorRateLimitIntervalSec: String(ARMOR_DEFAULTS.rateLimitIntervalSec),
  armorMaxRequestBytes: String(ARMOR_DEFAULTS.maxRequestBytes),
  armorPreview: String(ARMOR_DEFAULTS.preview),
};

/**
 * Reads `regions`, `domain` and the Cloud Armor keys. `gcpRegion` (the provider's `gcp:region`) is the default
 * single region; when it is missing, parseConfig already reports `gcp:region`, so this adds nothing for it.
 */
export function parseTopology(source: ConfigSource<unknown>, gcpRegion: string | undefined): TopologyResult {
  const problems: string[] = [];
  const r = new Reader(source, problems);

  const listed = parseRegionList(r.get("regions"), problems);
  const regions = listed.length > 0 ? listed : gcpRegion ? [gcpRegion] : [];

  if (regions.length <= 1) {
    const stray = r.strays(BALANCER_KEYS);
    // With an unreadable `regions` the count of regions is unknown: that problem alone is the one to fix.
    if (stray.length > 0 && problems.length === 0) {
      problems.push(
        `${stray.map(key).join(", ")} ${stray.length > 1 ? "are" : "is"} only used with two or more ` +
          `${key("regions")} (behind the load balancer); unset ${stray.length > 1 ? "them" : "it"} or add a region`,
      );
    }
    return { topology: { kind: "single-region", region: regions[0] ?? "" }, problems };
  }

  const domain = parseDomain(r.get("domain"), problems);
  const armor: ArmorSettings = {
    rateLimitCount: r.integer("armorRateLimitCount", ARMOR_DEFAULTS.rateLimitCount, 1, ARMOR_MAX_RATE_COUNT),
    rateLimitIntervalSec: interval(r.get("armorRateLimitIntervalSec"), problems),
    maxRequestBytes: r.integer("armorMaxRequestBytes", ARMOR_DEFAULTS.maxRequestBytes, ARMOR_MIN_REQUEST_BYTES, ARMOR_MAX_REQUEST_BYTES),
    preview: r.boolean("armorPreview", ARMOR_DEFAULTS.preview),
  };
  return { topology: { kind: "multi-region", regions, domain, armor }, problems };
}

/** Cloud Run region names as Google spells them: `us-central1`, `europe-west10`, `northamerica-northeast2`. */
export const REGION = /^[a-z]+-[a-z]+[0-9]{1,2}$/;

/**
 * `regions` arrives as Pulumi's structured config (`pulumi config set --path 'regions[0]' us-central1`, read back
 * as JSON text) or as a comma-separated string (`pulumi config set regions us-central1,europe-west1`). An empty
 * list means "unset": the default single region.
 */
export function parseRegionList(raw: string | undefined, problems: string[]): string[] {
  if (raw === undefined) return [];
  let items: unknown[];
  if (raw.startsWith("[")) {
    try {
      const parsed: unknown = JSON.parse(raw);
      items = Array.isArray(parsed) ? parsed : [parsed];
    } catch {
      problems.push(`${key("regions")} must be a list of regions, e.g. ["us-central1","europe-west1"] (got ${raw})`);
      return [];
    }
  } else {
    items = raw.split(",").map((s) => s.trim());
  }
  const regions: string[] = [];
  const bad: string[] = [];
  for (const item of items) {
    if (typeof item === "string" && REGION.test(item.trim())) regions.push(item.trim());
    else bad.push(JSON.stringify(item));
  }
  if (bad.length > 0) {
    problems.push(`${key("regions")} must name Cloud Run regions like us-central1 (not ${bad.join(", ")})`);
  }
  const repeated = [...new Set(regions.filter((r, i) => regions.indexOf(r) !== i))];
  if (repeated.length > 0) problems.push(`${key("regions")} lists ${repeated.join(", ")} more than once`);
  return bad.length > 0 || repeated.length > 0 ? [] : regions;
}

/**
 * The certificate's domain: a DNS hostname of two or more labels (RFC 1123), lowercased and without a trailing
 * dot. Google-managed certificates do not take wildcards (cloud.google.com/load-balancing/docs/ssl-certificates/
 * google-managed-certs), and the registered URI is `https://{domain}{path}`, so a URL or a port here is a mistake.
 */
export function parseDomain(raw: string | undefined, problems: string[]): string {
  if (raw === undefined) {
    problems.push(
      `${key("domain")} is required with two or more ${key("regions")}: the hostname Mosaic will call ` +
        `(e.g. sms.example.com), served by a Google-managed certificate`,
    );
    return "";
  }
  const domain = raw.toLowerCase().replace(/\.$/, "");
  const problem = hostnameProblem(domain);
  if (problem) problems.push(`${key("domain")} ${problem} (got "${raw}")`);
  return problem ? "" : domain;
}

const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** Why `name` (already lowercased) is not a hostname a managed certificate can cover, or undefined. */
export function hostnameProblem(name: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:\/\//.test(name) || /[/:?#@]/.test(name)) {
    return "must be a bare hostname like sms.example.com, without scheme, port or path";
  }
  if (name.includes("*")) return "cannot be a wildcard: Google-managed certificates cover exact names only";
  if (name.length > 253) return "must be at most 253 characters";
  const labels = name.split(".");
  if (labels.length < 2) return "must be a fully qualified hostname like sms.example.com";
  if (!labels.every((label) => LABEL.test(label))) {
    return "must be dot-separated labels of letters, digits and inner hyphens, each at most 63 characters";
  }
  if (/^[0-9]+$/.test(labels.at(-1)!)) return "must be a hostname, not an IP address";
  return undefined;
}

function interval(raw: string | undefined, problems: string[]): number {
  if (raw === undefined) return ARMOR_DEFAULTS.rateLimitIntervalSec;
  const n = Number(raw);
  if ((ARMOR_INTERVALS_SEC as readonly number[]).includes(n)) return n;
  problems.push(`${key("armorRateLimitIntervalSec")} must be one of ${ARMOR_INTERVALS_SEC.join(", ")} seconds (got "${raw}")`);
  return ARMOR_DEFAULTS.rateLimitIntervalSec;
}

/** Cloud Run settings per region. Behind the balancer nothing may bypass Cloud Armor: ingress admits only
 * Google Cloud load balancers and the VPC, and the `run.app` URL stops resolving
 * (@pulumi/gcp 9 `cloudrunv2.Service` `ingress`, `defaultUriDisabled`; terraform-provider-google
 * resource_cloud_run_v2_service.go `default_uri_disabled`). One region keeps today's public service and sets
 * nothing new, so an existing single-region stack shows no diff. */
export function cloudRunExposure(topology: Topology):
  | { ingress: "INGRESS_TRAFFIC_ALL" }
  | { ingress: "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"; defaultUriDisabled: true } {
  return topology.kind === "single-region"
    ? { ingress: "INGRESS_TRAFFIC_ALL" }
    : { ingress: "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER", defaultUriDisabled: true };
}

/** Every region the gateway runs in, `gcp:region` alone for one. */
export function topologyRegions(topology: Topology): string[] {
  return topology.kind === "single-region" ? [topology.region] : [...topology.regions];
}

/** The base of the URI registered with Mosaic: the balancer's domain, or undefined for the single service's own
 * run.app URL (known only once the service exists). */
export function balancedBaseUrl(topology: Topology): string | undefined {
  return topology.kind === "multi-region" ? `https://${topology.domain}` : undefined;
}
