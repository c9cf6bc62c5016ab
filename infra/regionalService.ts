// The gateway's Cloud Run service in one region, and its public invocation. A function, not a component: each
// service stays a direct child of SmsGateway, so the single-region stack keeps the resource (and URN) it always
// had, and a multi-region stack keeps it for the region of `gcp:region`.

import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import type { GatewayConfig } from "./config.js";
import { denoCommand, providerHosts } from "./denoPermissions.js";
import { gatewayEnv, type GatewaySecretRefs } from "./gatewayEnv.js";
import { cloudRunExposure } from "./regions.js";
import type { RegionalRedis } from "./sharedState.js";

const CONTAINER_PORT = 8080;
/** Health for the probes and for uptime checks from outside: Cloud Run reserves some paths ending in `z` (an
 * external request to `/healthz` gets Google's own 404), so the gateway serves `/health`, keeping `/healthz` as
 * an alias. infra/test/images.test.ts checks the built bundle answers it on both runtimes. */
export const HEALTH_PATH = "/health";

/** The logical name of a region's service (and its invoker binding): the stack's first name for the region of
 * `gcp:region`, so a single-region stack — and the move from one region to several — replaces nothing there. */
export function regionalName(name: string, region: string, primaryRegion: string): string {
  return region === primaryRegion ? name : `${name}-${region}`;
}

export interface RegionalServiceArgs {
  config: GatewayConfig<pulumi.Input<string>>;
  region: string;
  /** The service's name: the same in every region (names are unique per region). */
  serviceName: string;
  image: pulumi.Input<string>;
  serviceAccount: pulumi.Input<string>;
  secrets: GatewaySecretRefs<pulumi.Input<string>>;
  /** The region's Memorystore, with `sharedState: redis`. */
  redis: RegionalRedis | undefined;
  /** PUBLIC_BASE_URL for this region's instances. */
  publicBaseUrl: pulumi.Input<string>;
  /** What the service waits for: secret versions and their grants' propagation, the APIs, the Redis path. */
  dependsOn: pulumi.Resource[];
}

export interface RegionalService {
  region: string;
  service: gcp.cloudrunv2.Service;
  /** The service and, with `publicAccess: all-users`, its invoker binding. */
  ready: pulumi.Resource[];
}

export function createRegionalService(name: string, args: RegionalServiceArgs, parent: pulumi.Resource): RegionalService {
  const { config, region, redis } = args;
  const probe = { httpGet: { path: HEALTH_PATH, port: CONTAINER_PORT } };
  const hosts = providerHosts(config.delivery);
  // A new region or name is a new service next to the old one (service names are unique per region), so the
  // default create-before-delete never collides and Mosaic is moved to the new URL before the old one goes.
  const service = new gcp.cloudrunv2.Service(
    name,
    {
      name: args.serviceName,
      location: region,
      // One region: public on its run.app URL. Several: only the load balancer (and the VPC) reach it.
      ...cloudRunExposure(config.topology),
      deletionProtection: config.deletionProtection,
      // Public without an allUsers binding: the only way that works under Domain Restricted Sharing. Behind the
      // balancer too: the serverless NEG calls the service without an identity.
      invokerIamDisabled: config.publicAccess === "invoker-iam-disabled",
      template: {
        serviceAccount: args.serviceAccount,
        maxInstanceRequestConcurrency: config.concurrency,
        // Mosaic gives up after 3 s; 30 s only bounds a stuck request.
        timeout: "30s",
        scaling: { minInstanceCount: config.minInstances, maxInstanceCount: config.maxInstances },
        // Direct VPC egress to Memorystore: private addresses through the VPC, the providers as before
        // (cloud.google.com/run/docs/configuring/vpc-direct-vpc; @pulumi/gcp ServiceTemplateVpcAccess).
        ...(redis && {
          vpcAccess: { egress: "PRIVATE_RANGES_ONLY", networkInterfaces: [{ network: redis.network, subnetwork: redis.subnetwork }] },
        }),
        containers: [
          {
            image: args.image,
            ports: { containerPort: CONTAINER_PORT },
            // The Deno image may reach exactly the providers in use (infra/denoPermissions.ts).
            ...(config.runtime === "deno" && {
              args: redis ? redis.hostPort.apply((hostPort) => denoCommand([...hosts, hostPort])) : denoCommand(hosts),
            }),
            envs: gatewayEnv<pulumi.Input<string>>({
              config,
              secrets: args.secrets,
              redis: redis && { url: redis.url, caCert: redis.caCerts },
              publicBaseUrl: args.publicBaseUrl,
            }),
            resources: {
              limits: { cpu: "1", memory: "512Mi" },
              // CPU only while serving requests: the gateway does no background work, and this halves idle cost
              // of the always-on minimum instance. Explicit because setting `resources` changes the default.
              cpuIdle: true,
              startupCpuBoost: true,
            },
            startupProbe: { ...probe, periodSeconds: 1, timeoutSeconds: 1, failureThreshold: 30 },
            livenessProbe: { ...probe, periodSeconds: 30, timeoutSeconds: 3, failureThreshold: 3 },
          },
        ],
      },
    },
    // Cloud Run checks secret access when it deploys a revision: the versions must exist and the grants must
    // have propagated (each ManagedSecret's `ready`) first.
    { parent, dependsOn: args.dependsOn },
  );
  const ready: pulumi.Resource[] = [service];
  if (config.publicAccess === "all-users") {
    ready.push(
      new gcp.cloudrunv2.ServiceIamMember(
        `${name}-public`,
        { name: service.name, location: region, role: "roles/run.invoker", member: "allUsers" },
        { parent },
      ),
    );
  }
  return { region, service, ready };
}
