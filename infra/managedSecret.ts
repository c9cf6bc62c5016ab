// One secret the way every component here keeps one: a Secret Manager secret, its value as a version that
// consumers pin (Cloud Run resolves env secrets when an instance starts, so a new version rolls a new revision),
// a secretAccessor grant per reader on that one secret (never project-wide), and a wait for those grants to
// propagate before anything relies on them. Reuse it for every new secret (SMC, Telnyx, Redis AUTH):
//   const token = new ManagedSecret("telnyx-api-key", { secretId: names.id("telnyx-api-key", NAME_LIMITS.secretId),
//     data: config.telnyxApiKey, replication, readers: [member], dependsOn: apis }, { parent: this });
//   ... envs: [{ name: "TELNYX_API_KEY", valueSource: { secretKeyRef: token.ref } }]
//   ... and add token.ready to the service's dependsOn.

import { createHash } from "node:crypto";
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import * as time from "@pulumiverse/time";
import type { SecretReplication } from "./config.js";
import type { SecretRef } from "./gatewayEnv.js";

/**
 * How long a new grant gets before a consumer is deployed. IAM changes "typically propagate in 2 minutes, but
 * could potentially take 7 minutes or longer" (https://cloud.google.com/iam/docs/access-change-propagation), and
 * Cloud Run checks secret access when it deploys a revision: a create that fails there leaves a half-made
 * service behind (terraform-provider-google#17245; the README's deploy section says how to recover).
 */
export const IAM_PROPAGATION_WAIT = "120s";

/** Secret Manager's replication input for the provider. */
export function replicationInput(replication: SecretReplication): gcp.types.input.secretmanager.SecretReplication {
  return replication.kind === "automatic"
    ? { auto: {} }
    : { userManaged: { replicas: replication.locations.map((location) => ({ location })) } };
}

/**
 * The secret id for a replication. Replication cannot change on an existing secret (the provider replaces it:
 * `replication` is ForceNew), and Pulumi creates the replacement before deleting the old one: with the same id
 * that create fails with 409. So a user-managed replication adds a hash of its locations to the id, and a change
 * of replication is a new id — created, used, and only then the old one deleted.
 */
export function replicatedSecretId(baseId: string, replication: SecretReplication): string {
  if (replication.kind === "automatic") return baseId;
  const hash = createHash("sha256").update([...replication.locations].sort().join(",")).digest("hex").slice(0, 6);
  return `${baseId}-${hash}`;
}

export interface ManagedSecretArgs {
  /** The id before replication is added (infra/naming.ts gives one per stack). */
  secretId: string;
  data: pulumi.Input<string>;
  replication: SecretReplication;
  /** IAM members granted roles/secretmanager.secretAccessor on this secret alone, e.g. `serviceAccount:…`. */
  readers: pulumi.Input<string>[];
  /** What the secret waits for (the enabled APIs). */
  dependsOn: pulumi.Input<pulumi.Resource>[];
}

export class ManagedSecret extends pulumi.ComponentResource {
  readonly secret: gcp.secretmanager.Secret;
  readonly version: gcp.secretmanager.SecretVersion;
  readonly grants: gcp.secretmanager.SecretIamMember[];
  /** The env reference a Cloud Run container uses: this secret, pinned to this version. */
  readonly ref: SecretRef<pulumi.Output<string>>;
  /** What a consumer must wait for: the version, and the grants once they have had time to propagate. */
  readonly ready: pulumi.Resource[];

  constructor(name: string, args: ManagedSecretArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mosaic-sms-gateway:index:ManagedSecret", name, {}, opts);
    const parent = this;
    this.secret = new gcp.secretmanager.Secret(
      name,
      { secretId: replicatedSecretId(args.secretId, args.replication), replication: replicationInput(args.replication) },
      { parent, dependsOn: args.dependsOn },
    );
    this.version = new gcp.secretmanager.SecretVersion(
      `${name}-version`,
      { secret: this.secret.id, secretData: pulumi.secret(args.data) },
      { parent },
    );
    this.grants = args.readers.map(
      (member, i) =>
        new gcp.secretmanager.SecretIamMember(
          `${name}-reader-${i}`,
          { secretId: this.secret.id, role: "roles/secretmanager.secretAccessor", member },
          { parent },
        ),
    );
    this.ready = [this.version];
    if (this.grants.length > 0) {
      // Re-created (and so waited for again) whenever a grant is: a new reader or a replaced secret.
      this.ready.push(
        new time.Sleep(
          `${name}-iam-propagation`,
          {
            createDuration: IAM_PROPAGATION_WAIT,
            triggers: Object.fromEntries(this.grants.map((grant, i) => [`grant${i}`, grant.id])),
          },
          { parent, dependsOn: this.grants },
        ),
      );
    }
    this.ref = { secret: this.secret.secretId, version: this.version.version };
    this.registerOutputs({ secret: this.secret.name, version: this.version.name });
  }
}
