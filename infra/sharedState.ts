// Memorystore for Redis for the gateway's shared protection state (issue 11), one instance per region (Memorystore
// is regional), with AUTH and in-transit encryption on, and the network path from Cloud Run to it: a VPC network
// (the stack's own, custom-mode, with one subnet per region; or an existing one) that the services join with
// Direct VPC egress. The AUTH string and the PROTECTION_SECRET are kept by SmsGateway in Secret Manager.
//
// Input names are @pulumi/gcp 9.37's (node_modules/@pulumi/gcp/redis/instance.d.ts, compute/network.d.ts,
// compute/subnetwork.d.ts, compute/globalAddress.d.ts, servicenetworking/connection.d.ts), which bridge
// terraform-provider-google google/services/redis/resource_redis_instance.go: `auth_enabled` (default false),
// `transit_encryption_mode` (default DISABLED, ForceNew), `authorized_network` and `connect_mode` (ForceNew),
// `tier` (default BASIC), `memory_size_gb` (required), `deletion_protection` (unset counts as true: destroy would
// fail), `auth_string` (Sensitive: a secret output), `server_ca_certs[].cert`, `host`, `port`; instance names
// `^[a-z][a-z0-9-]{0,39}[a-z0-9]$`, unique per region.

import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { NAME_LIMITS, type StackNames } from "./naming.js";
import type { RedisSettings, VpcSettings } from "./protection.js";

/** With transit encryption on, Memorystore serves TLS on 6378 (cloud.google.com/memorystore/docs/redis/
 * in-transit-encryption); the instance's `port` output says which, and is what the URL uses. */
export const REDIS_TLS_PORT = 6378;

/** The PSA range a stack-created network allocates for Memorystore when it connects through private services
 * access: a /24, room for many /29 (BASIC) and /28 (STANDARD_HA) instances. */
export const PSA_PREFIX_LENGTH = 24;

export interface SharedStateArgs {
  names: StackNames;
  gcpProject: string;
  /** Every region that runs the gateway: one instance and, on a created network, one subnet each. */
  regions: readonly string[];
  redis: RedisSettings;
  vpc: VpcSettings;
  deletionProtection: boolean;
  /** The enabled APIs (redis, compute, servicenetworking). */
  dependsOn: pulumi.Input<pulumi.Resource>[];
}

/** What a region's service needs to reach its instance. */
export interface RegionalRedis {
  instance: gcp.redis.Instance;
  /** REDIS_URL: `rediss://host:port`, no password (that is REDIS_PASSWORD, from Secret Manager). */
  url: pulumi.Output<string>;
  /** `host:port`, for the Deno image's --allow-net. */
  hostPort: pulumi.Output<string>;
  /** REDIS_CA_CERT: every server CA the instance lists, PEM. A CA is valid for 10 years and a new one appears
   * 5 years in (cloud.google.com/memorystore/docs/redis/in-transit-encryption, "Certificate Authority rotation"):
   * a `pulumi up --refresh` then hands both to the gateway before the old one expires. */
  caCerts: pulumi.Output<string>;
  /** Direct VPC egress: `template.vpcAccess.networkInterfaces[0]`. */
  network: pulumi.Input<string>;
  subnetwork: pulumi.Input<string>;
  /** What the service must wait for: the instance and its subnet. */
  ready: pulumi.Resource[];
}

/** `projects/<project>/global/networks/<name>` for a name, or the path as given. */
export function networkPath(network: string, project: string): string {
  return network.startsWith("projects/") ? network : `projects/${project}/global/networks/${network}`;
}

/** An existing subnet in a region, in the network's project (Shared VPC: the host project). */
export function subnetworkPath(network: string, subnetwork: string, region: string, project: string): string {
  const networkProject = networkPath(network, project).split("/")[1]!;
  return `projects/${networkProject}/regions/${region}/subnetworks/${subnetwork}`;
}

export class SharedState extends pulumi.ComponentResource {
  readonly network: gcp.compute.Network | undefined;
  readonly regions: Record<string, RegionalRedis>;

  constructor(name: string, args: SharedStateArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mosaic-sms-gateway:index:SharedState", name, {}, opts);
    const parent = this;
    const { names, vpc, redis } = args;

    let network: pulumi.Input<string>;
    const subnetworks: Record<string, { path: pulumi.Input<string>; resource?: gcp.compute.Subnetwork }> = {};
    const peering: pulumi.Resource[] = [];
    if (vpc.kind === "create") {
      // Custom mode: only the subnets below, no auto-created /20 in every region of the world.
      this.network = new gcp.compute.Network(
        `${name}-vpc`,
        { name: names.id(undefined, NAME_LIMITS.rfc1035), autoCreateSubnetworks: false, description: "Mosaic SMS gateway: Cloud Run to Memorystore" },
        { parent, dependsOn: args.dependsOn },
      );
      network = this.network.id;
      args.regions.forEach((region, i) => {
        const subnet = new gcp.compute.Subnetwork(
          `${name}-subnet-${region}`,
          {
            name: names.id(region, NAME_LIMITS.rfc1035),
            region,
            network: this.network!.id,
            ipCidrRange: vpc.subnetCidrs[i]!,
            // Lets the instances reach Google APIs privately should egress ever be ALL_TRAFFIC; free.
            privateIpGoogleAccess: true,
          },
          { parent },
        );
        subnetworks[region] = { path: subnet.id, resource: subnet };
      });
      if (redis.connectMode === "PRIVATE_SERVICE_ACCESS") {
        const range = new gcp.compute.GlobalAddress(
          `${name}-psa-range`,
          {
            name: names.id("psa", NAME_LIMITS.rfc1035),
            purpose: "VPC_PEERING",
            addressType: "INTERNAL",
            prefixLength: PSA_PREFIX_LENGTH,
            network: this.network.id,
          },
          { parent },
        );
        peering.push(
          new gcp.servicenetworking.Connection(
            `${name}-psa`,
            { network: this.network.id, service: "servicenetworking.googleapis.com", reservedPeeringRanges: [range.name] },
            { parent },
          ),
        );
      }
    } else {
      this.network = undefined;
      network = networkPath(vpc.network, args.gcpProject);
      for (const region of args.regions) {
        subnetworks[region] = { path: subnetworkPath(vpc.network, vpc.subnetwork, region, args.gcpProject) };
      }
    }

    this.regions = {};
    for (const region of args.regions) {
      const instance = new gcp.redis.Instance(
        `${name}-redis-${region}`,
        {
          // Unique per region, so every region's instance has the stack's name.
          name: names.id(undefined, NAME_LIMITS.memorystoreInstance),
          region,
          displayName: `Mosaic SMS gateway protection state (${region})`,
          tier: redis.tier,
          memorySizeGb: redis.memorySizeGb,
          redisVersion: redis.version,
          authEnabled: true,
          transitEncryptionMode: "SERVER_AUTHENTICATION",
          authorizedNetwork: network,
          connectMode: redis.connectMode,
          deletionProtection: args.deletionProtection,
        },
        { parent, dependsOn: [...args.dependsOn, ...(this.network ? [this.network] : []), ...peering] },
      );
      const subnet = subnetworks[region]!;
      this.regions[region] = {
        instance,
        url: pulumi.interpolate`rediss://${instance.host}:${instance.port}`,
        hostPort: pulumi.interpolate`${instance.host}:${instance.port}`,
        caCerts: instance.serverCaCerts.apply((certs) => certs.map((c) => c.cert.trim()).join("\n")),
        network,
        subnetwork: subnet.path,
        ready: [instance, ...(subnet.resource ? [subnet.resource] : [])],
      };
    }
    this.registerOutputs({
      instances: Object.fromEntries(Object.entries(this.regions).map(([region, r]) => [region, r.instance.name])),
    });
  }
}
