// The one decision index.ts needs about the balancer: with one region nothing here is created and the gateway
// keeps its own run.app URL (today's deploy, unchanged); with several, a Cloud Armor policy and the global load
// balancer in front of the regional services, and the URI to register becomes https://{domain}{path}.

import type * as pulumi from "@pulumi/pulumi";
import { GatewaySecurityPolicy } from "./cloudArmor.js";
import { GatewayLoadBalancer, loadBalancerProblems, type RegionalService } from "./loadBalancer.js";
import type { Topology } from "./regions.js";

export interface MultiRegionEntryArgs {
  /** Per-stack name prefix (the caller's convention). */
  namePrefix: string;
  gatewayPath: string;
  /** One Cloud Run service per region of the topology. */
  services: readonly RegionalService[];
  /** See GatewayLoadBalancerArgs.logSampleRate. */
  logSampleRate?: number;
}

export interface MultiRegionEntry {
  securityPolicy: GatewaySecurityPolicy;
  loadBalancer: GatewayLoadBalancer;
}

/** Creates the balancer and its Armor policy for a multi-region topology; returns undefined, having created
 * nothing, for a single region. */
export function multiRegionEntry(
  topology: Topology,
  args: MultiRegionEntryArgs,
  opts?: pulumi.ComponentResourceOptions,
): MultiRegionEntry | undefined {
  if (topology.kind === "single-region") return undefined;
  const problems = loadBalancerProblems({ ...args, domain: topology.domain });
  const serviceRegions = args.services.map((s) => s.region).sort();
  if (serviceRegions.join() !== [...topology.regions].sort().join()) {
    problems.push(`services cover ${serviceRegions.join(", ") || "no region"}, the configured regions ${topology.regions.join(", ")}`);
  }
  // Checked before the policy exists, so a bad prefix or path creates nothing at all.
  if (problems.length > 0) throw new Error(`multiRegionEntry: invalid inputs:\n  - ${problems.join("\n  - ")}`);
  const securityPolicy = new GatewaySecurityPolicy(
    `${args.namePrefix}-armor`,
    { gatewayPath: args.gatewayPath, armor: topology.armor },
    opts,
  );
  const loadBalancer = new GatewayLoadBalancer(
    `${args.namePrefix}-lb`,
    {
      namePrefix: args.namePrefix,
      services: args.services,
      domain: topology.domain,
      gatewayPath: args.gatewayPath,
      securityPolicy: securityPolicy.policy.id,
      ...(args.logSampleRate === undefined ? {} : { logSampleRate: args.logSampleRate }),
    },
    opts,
  );
  return { securityPolicy, loadBalancer };
}
