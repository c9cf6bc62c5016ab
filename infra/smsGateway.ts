// The gateway on Cloud Run as one reusable component: APIs, a generated API key and the Twilio token in
// Secret Manager, a dedicated service account that can read exactly those two secrets, the service, and its
// public invocation. Usable from another Pulumi program: `new SmsGateway("sms-gateway", { config, repoRoot })`.

import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { GatewayConfig } from "./config.js";
import { buildGatewayImage } from "./containerImage.js";
import { gatewayEnv } from "./gatewayEnv.js";

/** The APIs the resources below need. Never disabled on destroy: other workloads in the project may use them. */
export const REQUIRED_APIS = [
  "run.googleapis.com",
  "secretmanager.googleapis.com",
  "artifactregistry.googleapis.com",
  "iam.googleapis.com",
] as const;

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

const CONTAINER_PORT = 8080;
const HEALTH_PATH = "/healthz";

export interface SmsGatewayArgs {
  config: GatewayConfig<pulumi.Input<string>>;
  /** Absolute path of the repository root (the image build context). */
  repoRoot: string;
}

export class SmsGateway extends pulumi.ComponentResource {
  /** The exact URI to register with Mosaic, path included. */
  readonly url: pulumi.Output<string>;
  /** The generated API key (secret). */
  readonly apiKey: pulumi.Output<string>;
  /** The API key secret's resource name, `projects/<number>/secrets/<id>`. */
  readonly apiKeySecret: pulumi.Output<string>;
  /** The pinned API key version's resource name, `projects/<number>/secrets/<id>/versions/<n>`. */
  readonly apiKeySecretVersion: pulumi.Output<string>;
  readonly serviceAccount: pulumi.Output<string>;
  readonly image: pulumi.Output<string>;
  readonly service: gcp.cloudrunv2.Service;
  /** What must exist before the gateway answers the public: the service and, when used, its invoker binding. */
  readonly ready: pulumi.Resource[];

  constructor(name: string, args: SmsGatewayArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mosaic-sms-gateway:index:SmsGateway", name, {}, opts);
    const { config } = args;
    const parent = this;

    const apis = REQUIRED_APIS.map(
      (api) => new gcp.projects.Service(`${name}-${api.split(".")[0]}`, { service: api, disableOnDestroy: false }, { parent }),
    );

    const apiKey = new random.RandomPassword(`${name}-api-key`, API_KEY_PASSWORD_ARGS, { parent });
    const apiKeySecret = this.secret(`${name}-api-key`, apiKey.result, apis);
    const twilioSecret = this.secret(`${name}-twilio-auth-token`, config.twilioAuthToken, apis);

    const account = new gcp.serviceaccount.Account(
      `${name}-sa`,
      {
        accountId: `${name}-sa`.slice(0, 30),
        displayName: "Mosaic SMS gateway (Cloud Run)",
        description: "Runs the SMS gateway; reads only its own two secrets.",
      },
      { parent, dependsOn: apis },
    );
    const member = pulumi.interpolate`serviceAccount:${account.email}`;
    // Per secret, never project-wide: the gateway can read its API key and Twilio token and nothing else.
    const accessors = [apiKeySecret, twilioSecret].map(
      ({ id, secret }) =>
        new gcp.secretmanager.SecretIamMember(
          `${id}-accessor`,
          { secretId: secret.id, role: "roles/secretmanager.secretAccessor", member },
          { parent },
        ),
    );

    this.image = config.image
      ? pulumi.output(config.image)
      : buildGatewayImage(
          name,
          { gcpProject: config.gcpProject, gcpRegion: config.gcpRegion, runtime: config.runtime, repoRoot: args.repoRoot, dependsOn: apis },
          this,
        );

    const probe = { httpGet: { path: HEALTH_PATH, port: CONTAINER_PORT } };
    this.service = new gcp.cloudrunv2.Service(
      name,
      {
        name,
        location: config.gcpRegion,
        ingress: "INGRESS_TRAFFIC_ALL",
        deletionProtection: config.deletionProtection,
        // Public without an allUsers binding: the only way that works under Domain Restricted Sharing.
        invokerIamDisabled: config.publicAccess === "invoker-iam-disabled",
        template: {
          serviceAccount: account.email,
          maxInstanceRequestConcurrency: config.concurrency,
          // Mosaic gives up after 3 s; 30 s only bounds a stuck request.
          timeout: "30s",
          scaling: { minInstanceCount: config.minInstances, maxInstanceCount: config.maxInstances },
          containers: [
            {
              image: this.image,
              ports: { containerPort: CONTAINER_PORT },
              envs: gatewayEnv({
                config,
                apiKey: { secret: apiKeySecret.secret.secretId, version: apiKeySecret.version.version },
                twilioAuthToken: { secret: twilioSecret.secret.secretId, version: twilioSecret.version.version },
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
      // Cloud Run checks secret access when it deploys a revision: the grants and versions must exist first.
      { parent, dependsOn: [...accessors, apiKeySecret.version, twilioSecret.version, ...apis] },
    );

    this.ready = [this.service];
    if (config.publicAccess === "all-users") {
      this.ready.push(
        new gcp.cloudrunv2.ServiceIamMember(
          `${name}-public`,
          { name: this.service.name, location: config.gcpRegion, role: "roles/run.invoker", member: "allUsers" },
          { parent },
        ),
      );
    }

    this.url = pulumi.interpolate`${this.service.uri}${config.gatewayPath}`;
    this.apiKey = pulumi.secret(apiKey.result);
    this.apiKeySecret = apiKeySecret.secret.name;
    this.apiKeySecretVersion = apiKeySecret.version.name;
    this.serviceAccount = account.email;
    this.registerOutputs({
      url: this.url,
      apiKey: this.apiKey,
      apiKeySecret: this.apiKeySecret,
      apiKeySecretVersion: this.apiKeySecretVersion,
      serviceAccount: this.serviceAccount,
      image: this.image,
    });
  }

  /** A Secret Manager secret holding `data` as its one version. */
  private secret(id: string, data: pulumi.Input<string>, apis: pulumi.Resource[]) {
    const secret = new gcp.secretmanager.Secret(
      id,
      { secretId: id, replication: { auto: {} } },
      { parent: this, dependsOn: apis },
    );
    const version = new gcp.secretmanager.SecretVersion(
      `${id}-v`,
      { secret: secret.id, secretData: pulumi.secret(data) },
      { parent: this },
    );
    return { secret, version, id };
  }
}
