// The gateway on Cloud Run as one reusable component: APIs, generated API keys and the secrets of the providers
// in use in Secret Manager, a dedicated service account that can read exactly the secrets it needs, the service, and its public
// invocation. Usable from another Pulumi program: `new SmsGateway("sms-gateway", { config, repoRoot })`.
// Every project-unique id carries the stack (infra/naming.ts); which ones, and why, is pinned in
// infra/test/naming.test.ts.

import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { acceptedKeys, keyPlan, slotGeneration, type KeySlot } from "./apiKeys.js";
import type { GatewayConfig } from "./config.js";
import { buildGatewayImage } from "./containerImage.js";
import { ManagedSecret } from "./managedSecret.js";
import { NAME_LIMITS, stackNames } from "./naming.js";
import { createRegionalService, HEALTH_PATH, regionalName, type RegionalService } from "./regionalService.js";
import { balancedBaseUrl, topologyRegions } from "./regions.js";
import { SharedState, type RegionalRedis } from "./sharedState.js";
import type { SourceRevision } from "./sourceRevision.js";

/** The APIs the resources below need. Never disabled on destroy: other workloads in the project may use them.
 * Cloud Resource Manager and Service Usage are not here: enabling an API goes through them, so they must be on
 * before the first `pulumi up` (README, Deploy). */
export const REQUIRED_APIS = [
  "run.googleapis.com",
  "secretmanager.googleapis.com",
  "artifactregistry.googleapis.com",
  "iam.googleapis.com",
] as const;

/** The APIs this configuration needs: REQUIRED_APIS; Compute Engine for the load balancer (several regions) and
 * for the VPC and Direct VPC egress (`sharedState: redis`, with Memorystore, and Service Networking for a private
 * services access connection). */
export function requiredApis(config: Pick<GatewayConfig<unknown>, "protection" | "observability" | "topology">): string[] {
  const state = config.protection.sharedState;
  const compute = state.kind === "redis" || config.topology.kind === "multi-region";
  return [
    ...REQUIRED_APIS,
    ...(compute ? ["compute.googleapis.com"] : []),
    ...(state.kind === "redis"
      ? ["redis.googleapis.com", ...(state.redis.connectMode === "PRIVATE_SERVICE_ACCESS" ? ["servicenetworking.googleapis.com"] : [])]
      : []),
    // Log-based metrics, and alerts, the uptime check and the dashboard (infra/observability.ts).
    ...(config.observability.enabled ? ["logging.googleapis.com", "monitoring.googleapis.com"] : []),
  ];
}

/**
 * The service's deterministic URL, `https://<service>-<project number>.<region>.run.app`
 * (cloud.google.com/run/docs/triggering/https-request, "Deterministic URL"): known before the service exists, so
 * it can be the service's own PUBLIC_BASE_URL without a dependency cycle (the `uri`/`urls` outputs would need the
 * service first). Cloud Run gives it when the DNS label fits in 63 characters, which NAME_LIMITS.cloudRunService
 * keeps (49 + "-" + a 12-digit project number).
 */
export function deterministicServiceUrl(service: string, projectNumber: string, region: string): string {
  return `https://${service}-${projectNumber}.${region}.run.app`;
}

/** PROTECTION_SECRET, the HMAC key of dedupe and limit keys: the same on every instance of every region, at
 * least 32 characters (gateway/src/protection/settings.ts); letters and digits, ~286 bits. */
export const PROTECTION_SECRET_ARGS = { length: 48, special: false } as const satisfies random.RandomPasswordArgs;

/** The generated key travels in the `X-API-Key` header and, comma-separated, in `GATEWAY_API_KEY`: letters,
 * digits, `-` and `_` only (header-safe, no comma), 48 characters (~285 bits). */
export const API_KEY_PASSWORD_ARGS = {
  length: 48,
  special: true,
  overrideSpecial: "-_",
  minLower: 1,
  minUpper: 1,
  minNumeric: 1,
} as const satisfies random.RandomPasswordArgs;

export { HEALTH_PATH };

export interface SmsGatewayArgs {
  config: GatewayConfig<pulumi.Input<string>>;
  /** Absolute path of the repository root (the image build context). */
  repoRoot: string;
  /** The commit the image's build inputs come from, for its tag (infra/sourceRevision.ts). */
  sourceRevision?: SourceRevision;
}

export class SmsGateway extends pulumi.ComponentResource {
  /** The exact URI to register with Mosaic, path included. */
  readonly url: pulumi.Output<string>;
  /** The key Mosaic is given (secret): the current generation's. */
  readonly apiKey: pulumi.Output<string>;
  readonly apiKeySecret: ManagedSecret;
  /** GATEWAY_API_KEY: the current key and, during a rotation, the previous one. */
  readonly acceptedApiKeysSecret: ManagedSecret;
  /** Each provider secret, present when the configuration sends through that provider. */
  readonly twilioAuthTokenSecret: ManagedSecret | undefined;
  readonly smcClientSecret: ManagedSecret | undefined;
  readonly telnyxApiKeySecret: ManagedSecret | undefined;
  /** With `sharedState: redis`: the Memorystore instances and their network, the HMAC key, and each region's
   * AUTH string in Secret Manager. */
  readonly sharedState: SharedState | undefined;
  readonly protectionSecret: ManagedSecret | undefined;
  readonly redisAuthSecrets: Record<string, ManagedSecret>;
  /** Those secrets' pinned version names, by provider. */
  readonly providerSecretVersions: pulumi.Output<Partial<Record<"twilio" | "smc" | "telnyx", string>>>;
  readonly serviceAccount: pulumi.Output<string>;
  readonly image: pulumi.Output<string>;
  /** The service in `gcp:region` (or the first region when that is not one of them). */
  readonly service: gcp.cloudrunv2.Service;
  /** One service per region. */
  readonly services: RegionalService[];
  /** What must exist before the gateway answers the public: the service and, when used, its invoker binding. */
  readonly ready: pulumi.Resource[];
  /** The enabled APIs, for components composed beside this one (Observability). */
  readonly apis: gcp.projects.Service[];
  /** PUBLIC_BASE_URL: the origin providers call back (the primary service's, or the balancer's domain). */
  readonly publicBaseUrl: pulumi.Output<string>;

  constructor(name: string, args: SmsGatewayArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mosaic-sms-gateway:index:SmsGateway", name, {}, opts);
    const { config } = args;
    const parent = this;
    const names = stackNames(name, config.stack);

    const apis = requiredApis(config).map(
      (api) => new gcp.projects.Service(`${name}-${api.split(".")[0]}`, { service: api, disableOnDestroy: false }, { parent }),
    );
    this.apis = apis;

    const keys = this.apiKeys(name, config);
    const plan = keyPlan(config.apiKey);
    const current = keys[plan.current]!.result;
    const previous = plan.previous === undefined ? undefined : keys[plan.previous]!.result;

    const account = new gcp.serviceaccount.Account(
      `${name}-sa`,
      {
        accountId: names.id(undefined, NAME_LIMITS.serviceAccountId),
        displayName: `Mosaic SMS gateway (${config.stack})`,
        description: "Runs the SMS gateway on Cloud Run; reads only its own secrets.",
      },
      { parent, dependsOn: apis },
    );
    const reader = pulumi.interpolate`serviceAccount:${account.email}`;
    const secret = (purpose: string, data: pulumi.Input<string>, readers: pulumi.Input<string>[]) =>
      new ManagedSecret(
        `${name}-${purpose}`,
        {
          secretId: names.id(purpose, NAME_LIMITS.secretId),
          data,
          replication: config.secretReplication,
          readers,
          dependsOn: apis,
        },
        { parent },
      );
    // The key Mosaic holds, for operators and `npm run register -- --api-key-secret`; the gateway does not read it.
    this.apiKeySecret = secret("api-key", current, []);
    this.acceptedApiKeysSecret = secret(
      "accepted-api-keys",
      pulumi.all([current, previous]).apply(([c, p]) => acceptedKeys(c, p)),
      [reader],
    );
    // Each provider's secret apart, with its own grant: a new Telnyx key rolls a revision without touching the others.
    const { twilio, smc, telnyx } = config.delivery;
    this.twilioAuthTokenSecret = twilio && secret("twilio-auth-token", twilio.authToken, [reader]);
    this.smcClientSecret = smc && secret("smc-client-secret", smc.clientSecret, [reader]);
    this.telnyxApiKeySecret = telnyx && secret("telnyx-api-key", telnyx.apiKey, [reader]);

    const state = config.protection.sharedState;
    const regions = topologyRegions(config.topology);
    this.sharedState =
      state.kind === "redis"
        ? new SharedState(
            `${name}-state`,
            {
              names,
              gcpProject: config.gcpProject,
              regions,
              redis: state.redis,
              vpc: state.vpc,
              deletionProtection: config.deletionProtection,
              dependsOn: apis,
            },
            { parent },
          )
        : undefined;
    this.protectionSecret =
      this.sharedState &&
      secret("protection-secret", new random.RandomPassword(`${name}-protection-secret`, PROTECTION_SECRET_ARGS, { parent }).result, [reader]);
    // Each region's instance has its own AUTH string, hence a secret per region (the region in its id).
    this.redisAuthSecrets = Object.fromEntries(
      Object.entries(this.sharedState?.regions ?? {}).map(([r, redis]) => [r, secret(`redis-auth-${r}`, redis.instance.authString, [reader])]),
    );

    this.image = config.image
      ? pulumi.output(config.image)
      : buildGatewayImage(
          name,
          {
            gcpProject: config.gcpProject,
            gcpRegion: config.gcpRegion,
            runtime: config.runtime,
            repositoryId: names.id(undefined, NAME_LIMITS.artifactRegistryRepository),
            repoRoot: args.repoRoot,
            sourceRevision: args.sourceRevision,
            dependsOn: apis,
          },
          this,
        );

    const serviceName = names.id(undefined, NAME_LIMITS.cloudRunService);
    // PUBLIC_BASE_URL: behind the balancer its domain; alone, the service's deterministic URL, which needs the
    // project number (resourcemanager.projects.get, which run.admin holds).
    const balanced = balancedBaseUrl(config.topology);
    const project = balanced === undefined ? gcp.organizations.getProjectOutput({ projectId: config.gcpProject }, { parent }) : undefined;
    const publicBaseUrl = (region: string): pulumi.Output<string> =>
      balanced !== undefined ? pulumi.output(balanced) : project!.number.apply((number) => deterministicServiceUrl(serviceName, number, region));
    const sharedSecrets = [this.acceptedApiKeysSecret, this.twilioAuthTokenSecret, this.smcClientSecret, this.telnyxApiKeySecret, this.protectionSecret];
    this.services = regions.map((region) => {
      const redis: RegionalRedis | undefined = this.sharedState?.regions[region];
      const redisAuth = this.redisAuthSecrets[region];
      const readSecrets = [...sharedSecrets, redisAuth].filter((s): s is ManagedSecret => s !== undefined);
      return createRegionalService(
        regionalName(name, region, config.gcpRegion),
        {
          config,
          region,
          serviceName,
          image: this.image,
          serviceAccount: account.email,
          secrets: {
            apiKey: this.acceptedApiKeysSecret.ref,
            twilioAuthToken: this.twilioAuthTokenSecret?.ref,
            smcClientSecret: this.smcClientSecret?.ref,
            telnyxApiKey: this.telnyxApiKeySecret?.ref,
            redisPassword: redisAuth?.ref,
            protectionSecret: this.protectionSecret?.ref,
          },
          redis,
          publicBaseUrl: publicBaseUrl(region),
          dependsOn: [...readSecrets.flatMap((s) => s.ready), ...apis, ...(redis?.ready ?? [])],
        },
        this,
      );
    });
    const primary = this.services.find((s) => s.region === config.gcpRegion) ?? this.services[0]!;
    this.service = primary.service;
    this.ready = this.services.flatMap((s) => s.ready);
    this.publicBaseUrl = publicBaseUrl(primary.region);

    this.url = pulumi.interpolate`${this.service.uri}${config.gatewayPath}`;
    this.apiKey = pulumi.secret(current);
    this.providerSecretVersions = pulumi.output({
      ...(this.twilioAuthTokenSecret && { twilio: this.twilioAuthTokenSecret.version.name }),
      ...(this.smcClientSecret && { smc: this.smcClientSecret.version.name }),
      ...(this.telnyxApiKeySecret && { telnyx: this.telnyxApiKeySecret.version.name }),
    });
    this.serviceAccount = account.email;
    this.registerOutputs({
      url: this.url,
      serviceAccount: this.serviceAccount,
      image: this.image,
      apiKeySecretVersion: this.apiKeySecret.version.name,
      acceptedApiKeysSecretVersion: this.acceptedApiKeysSecret.version.name,
      providerSecretVersions: this.providerSecretVersions,
    });
  }

  /** One generated key per slot that has had a generation (infra/apiKeys.ts). Generation 1 is made without
   * keepers, and the odd slot answers to the name the single key had before slots, so an existing stack keeps
   * its key. */
  private apiKeys(name: string, config: GatewayConfig<unknown>): Partial<Record<KeySlot, random.RandomPassword>> {
    const keys: Partial<Record<KeySlot, random.RandomPassword>> = {};
    for (const slot of ["odd", "even"] as const) {
      const generation = slotGeneration(slot, config.apiKey.generation);
      if (generation === undefined) continue;
      keys[slot] = new random.RandomPassword(
        `${name}-api-key-${slot}`,
        { ...API_KEY_PASSWORD_ARGS, ...(generation === 1 ? {} : { keepers: { generation: String(generation) } }) },
        { parent: this, ...(slot === "odd" ? { aliases: [{ name: `${name}-api-key` }] } : {}) },
      );
    }
    return keys;
  }
}
