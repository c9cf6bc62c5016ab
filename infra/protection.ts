// Protection across instances (issue 11): where the gateway keeps its dedupe records and limit counters
// (`sharedState`: memory, the default, or Memorystore for Redis reached over Direct VPC egress), and the
// gateway's own protection settings, passed through to its environment when set (their rules are the gateway's:
// gateway/src/protection/settings.ts, checked at preview by infra/gatewayCheck.ts). Pure, like config.ts.

import { key, type Reader } from "./configReader.js";

export const SHARED_STATES = ["memory", "redis"] as const;
export const REDIS_TIERS = ["BASIC", "STANDARD_HA"] as const;
/** Memorystore for Redis versions this gateway's client (ioredis, Lua scripts) is meant for; 7.2 is the newest
 * Memorystore supports (cloud.google.com/memorystore/docs/redis/supported-versions). */
export const REDIS_VERSIONS = ["REDIS_7_2", "REDIS_7_0", "REDIS_6_X"] as const;
/** DIRECT_PEERING: Memorystore peers the network itself at creation, nothing else to set up. PRIVATE_SERVICE_ACCESS:
 * through the network's private services access connection (Shared VPC, central IP management); it needs
 * servicenetworking.googleapis.com, an allocated range and the connection
 * (cloud.google.com/memorystore/docs/redis/networking, "Connection modes"). */
export const REDIS_CONNECT_MODES = ["DIRECT_PEERING", "PRIVATE_SERVICE_ACCESS"] as const;

/** The gateway's protection variables and the config keys that set them; unset keys leave the gateway's default. */
export const PROTECTION_KEYS = {
  dedupeWindowSeconds: "DEDUPE_WINDOW_S",
  onUnknownRepeat: "ON_UNKNOWN_REPEAT",
  rateLimitPerNumber: "RATE_LIMIT_PER_NUMBER",
  rateLimitPerPrefix: "RATE_LIMIT_PER_PREFIX",
  rateLimitPerCountry: "RATE_LIMIT_PER_COUNTRY",
  rateLimitGlobal: "RATE_LIMIT_GLOBAL",
  allowedCountries: "ALLOWED_COUNTRIES",
} as const;
export type ProtectionVariable = (typeof PROTECTION_KEYS)[keyof typeof PROTECTION_KEYS];

export interface RedisSettings {
  /** Default BASIC: one node. The gateway keeps sending on per-instance state while Redis is away (issue 11), so
   * a zonal outage costs duplicate protection, not OTPs; STANDARD_HA adds a replica in another zone. */
  tier: (typeof REDIS_TIERS)[number];
  /** Default 1 (GiB, Memorystore's minimum): dedupe records and counters are small and all expire. */
  memorySizeGb: number;
  /** Default REDIS_7_2. */
  version: (typeof REDIS_VERSIONS)[number];
  /** Default DIRECT_PEERING. */
  connectMode: (typeof REDIS_CONNECT_MODES)[number];
}

/** The VPC the services' Direct VPC egress and Memorystore share: one the stack creates (a custom-mode network and
 * a subnet per region), or an existing one (its subnet in each region named `subnetwork`). */
export type VpcSettings =
  | { kind: "create"; subnetCidrs: string[] }
  | { kind: "existing"; network: string; subnetwork: string };

export type SharedStateConfig =
  | { kind: "memory" }
  | { kind: "redis"; redis: RedisSettings; vpc: VpcSettings };

export interface ProtectionConfig {
  sharedState: SharedStateConfig;
  /** The protection variables the stack sets, by variable. */
  settings: Partial<Record<ProtectionVariable, string>>;
}

/** Direct VPC egress takes IP addresses from the subnet as instances start, in blocks of 16
 * (cloud.google.com/run/docs/configuring/vpc-direct-vpc, "IP address allocation"); Google's sizing advice is four
 * times the instances (cloud.google.com/run/docs/configuring/networking-best-practices, "Monitor IP address
 * usage"). A /26 is the smallest subnet this accepts. */
export const ADDRESSES_PER_INSTANCE = 4;
const MAX_SUBNET_PREFIX = 26;

/** The default subnet of the i-th region: 10.130.i.0/24 (RFC 1918, 252 usable addresses each). */
export function defaultSubnetCidr(index: number): string {
  return `10.130.${index}.0/24`;
}

/** [first address as a 32-bit number, prefix length] of an IPv4 CIDR, or undefined when it is not one. */
export function parseCidr(cidr: string): [number, number] | undefined {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  if (!match) return undefined;
  const octets = match.slice(1, 5).map(Number);
  const prefix = Number(match[5]);
  if (octets.some((o) => o > 255) || prefix > 32) return undefined;
  const address = octets.reduce((a, o) => a * 256 + o, 0);
  const size = 2 ** (32 - prefix);
  if (address % size !== 0) return undefined;
  return [address, prefix];
}

function overlaps([a, pa]: [number, number], [b, pb]: [number, number]): boolean {
  return a < b + 2 ** (32 - pb) && b < a + 2 ** (32 - pa);
}

/** What is wrong with the subnets the stack would create, one per region, for `maxInstances` instances each. */
export function subnetProblems(cidrs: readonly string[], regions: readonly string[], maxInstances: number): string[] {
  const problems: string[] = [];
  const name = key("vpcSubnetCidrs");
  if (cidrs.length !== regions.length) {
    problems.push(`${name} must give one range per region (${regions.length}: ${regions.join(", ")}), in that order (got ${cidrs.length})`);
    return problems;
  }
  const parsed = cidrs.map((cidr, i) => {
    const range = parseCidr(cidr);
    if (!range) {
      problems.push(`${name} entry ${i + 1} must be an IPv4 range like 10.130.0.0/24 (got "${cidr}")`);
      return undefined;
    }
    const addresses = 2 ** (32 - range[1]);
    if (range[1] > MAX_SUBNET_PREFIX || addresses < ADDRESSES_PER_INSTANCE * maxInstances) {
      const needed = Math.max(2 ** (32 - MAX_SUBNET_PREFIX), ADDRESSES_PER_INSTANCE * maxInstances);
      const prefix = 32 - Math.ceil(Math.log2(needed));
      problems.push(
        `${name} entry ${i + 1} (${cidr}, ${regions[i]}) holds ${addresses} addresses: Direct VPC egress wants about ` +
          `${ADDRESSES_PER_INSTANCE} per instance (${key("maxInstances")} ${maxInstances}), so /${prefix} or larger`,
      );
    }
    return range;
  });
  for (let i = 0; i < parsed.length; i++) {
    for (let j = i + 1; j < parsed.length; j++) {
      if (parsed[i] && parsed[j] && overlaps(parsed[i]!, parsed[j]!)) {
        problems.push(`${name} entries ${i + 1} and ${j + 1} (${cidrs[i]}, ${cidrs[j]}) overlap: one network holds every region's subnet`);
      }
    }
  }
  return problems;
}

const NETWORK = /^(projects\/[a-z][-a-z0-9]{4,28}[a-z0-9]\/global\/networks\/)?[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;
const SUBNETWORK = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** Reads `sharedState` and the Redis and VPC keys for the services' regions. */
export function parseProtection<S>(r: Reader<S>, regions: readonly string[], maxInstances: number): ProtectionConfig {
  const settings: Partial<Record<ProtectionVariable, string>> = {};
  for (const [configKey, variable] of Object.entries(PROTECTION_KEYS)) {
    const value = r.get(configKey);
    if (value !== undefined) settings[variable] = value;
  }
  const kind = r.oneOf("sharedState", SHARED_STATES, "memory");
  if (kind === "memory") {
    // The Redis and VPC keys with their Pulumi.yaml defaults (which arrive as if set): only a value that differs is a stray.
    const stray = r.strays({
      redisTier: "BASIC",
      redisMemorySizeGb: "1",
      redisVersion: "REDIS_7_2",
      redisConnectMode: "DIRECT_PEERING",
      vpcNetwork: undefined,
      vpcSubnetwork: undefined,
      vpcSubnetCidrs: undefined,
    });
    if (stray.length > 0) {
      r.problems.push(`${stray.map(key).join(", ")} ${stray.length > 1 ? "are" : "is"} only used with ${key("sharedState")} redis`);
    }
    return { sharedState: { kind: "memory" }, settings };
  }
  const redis: RedisSettings = {
    tier: r.oneOf("redisTier", REDIS_TIERS, "BASIC"),
    memorySizeGb: r.integer("redisMemorySizeGb", 1, 1, 300),
    version: r.oneOf("redisVersion", REDIS_VERSIONS, "REDIS_7_2"),
    connectMode: r.oneOf("redisConnectMode", REDIS_CONNECT_MODES, "DIRECT_PEERING"),
  };
  const network = r.get("vpcNetwork");
  const cidrs = r.get("vpcSubnetCidrs");
  let vpc: VpcSettings;
  if (network !== undefined) {
    if (!NETWORK.test(network)) {
      r.problems.push(`${key("vpcNetwork")} must be a VPC network's name or projects/<project>/global/networks/<name> (got "${network}")`);
    }
    if (cidrs !== undefined) r.problems.push(`${key("vpcSubnetCidrs")} is only used when the stack creates the network (${key("vpcNetwork")} empty)`);
    // Cloud Run's own rule: a network without a subnet named uses the subnet of the same name.
    const subnetwork = r.get("vpcSubnetwork") ?? network.split("/").at(-1)!;
    if (!SUBNETWORK.test(subnetwork)) r.problems.push(`${key("vpcSubnetwork")} must be a subnet's name (got "${subnetwork}")`);
    vpc = { kind: "existing", network, subnetwork };
  } else {
    if (r.get("vpcSubnetwork") !== undefined) r.problems.push(`${key("vpcSubnetwork")} needs ${key("vpcNetwork")}: the stack names the subnets it creates`);
    const subnetCidrs = cidrs === undefined ? regions.map((_, i) => defaultSubnetCidr(i)) : cidrs.split(",").map((c) => c.trim());
    r.problems.push(...subnetProblems(subnetCidrs, regions, maxInstances));
    vpc = { kind: "create", subnetCidrs };
  }
  return { sharedState: { kind: "redis", redis, vpc }, settings };
}
