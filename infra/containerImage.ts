// Where the gateway image comes from: a prebuilt reference, or a build of this repository pushed to an
// Artifact Registry repository and deployed by digest (a tag can move; a digest names exactly what was tested).

import * as path from "node:path";
import * as dockerBuild from "@pulumi/docker-build";
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import type { Runtime } from "./config.js";
import { revisionTag, type SourceRevision } from "./sourceRevision.js";

/** The Dockerfile that builds each runtime's image; both take the repository root as build context. */
export const DOCKERFILES: Record<Runtime, string> = {
  node: "gateway/Dockerfile",
  deno: "gateway/Dockerfile.deno",
};

/** Artifact Registry's Docker host for a region (https://cloud.google.com/artifact-registry/docs/docker/names). */
export function registryHost(region: string): string {
  return `${region}-docker.pkg.dev`;
}

/** `<host>/<project>/<repository>/<image>@<digest>`: the by-digest reference Cloud Run deploys. */
export function imageByDigest(repositoryUrl: string, imageName: string, digest: string): string {
  return `${repositoryUrl}/${imageName}@${digest}`;
}

/** The tags an image is pushed with: the source revision when known, and `latest`. */
export function imageTags(revision: SourceRevision | undefined): string[] {
  return revision === undefined ? ["latest"] : [revisionTag(revision), "latest"];
}

/**
 * The repository's cleanup (https://cloud.google.com/artifact-registry/docs/repositories/cleanup-policy-overview:
 * a version matching a keep policy is never deleted, whatever delete policy it also matches). Each image (and its
 * build cache) keeps its 10 newest versions — the deployed one among them, since every deploy pushes a newer one;
 * older ones go after 30 days, and untagged ones (a tag moved away) after 7. Durations in the provider's "Nd" form
 * (terraform-provider-google converts them to seconds and suppresses the diff).
 */
export const CLEANUP_POLICIES: gcp.types.input.artifactregistry.RepositoryCleanupPolicy[] = [
  { id: "keep-10-newest", action: "KEEP", mostRecentVersions: { keepCount: 10 } },
  { id: "delete-untagged-after-7-days", action: "DELETE", condition: { tagState: "UNTAGGED", olderThan: "7d" } },
  { id: "delete-after-30-days", action: "DELETE", condition: { tagState: "ANY", olderThan: "30d" } },
];

export interface GatewayImageArgs {
  gcpProject: string;
  gcpRegion: string;
  runtime: Runtime;
  /** The repository id (one per stack: infra/naming.ts). */
  repositoryId: string;
  /** Absolute path of the repository root: the Docker build context. */
  repoRoot: string;
  /** The commit the build inputs come from, for the tag; undefined without git. */
  sourceRevision: SourceRevision | undefined;
  /** Resources the registry waits for (the enabled APIs). */
  dependsOn: pulumi.Input<pulumi.Resource>[];
}

/** A path as the program's working directory sees it (infra/ under the CLI): relative, so the state holds no
 * machine-specific absolute path and `pulumi destroy` works from another checkout or CI workspace. */
export function programRelative(absolutePath: string): string {
  return path.relative(process.cwd(), absolutePath) || ".";
}

/** Builds `gateway/` for the chosen runtime and pushes it; returns the by-digest reference. */
export function buildGatewayImage(name: string, args: GatewayImageArgs, parent: pulumi.Resource): pulumi.Output<string> {
  const repository = new gcp.artifactregistry.Repository(
    `${name}-images`,
    {
      repositoryId: args.repositoryId,
      location: args.gcpRegion,
      format: "DOCKER",
      description: "Container images of the Mosaic SMS gateway",
      cleanupPolicies: CLEANUP_POLICIES,
      cleanupPolicyDryRun: false,
    },
    { parent, dependsOn: args.dependsOn },
  );
  const repositoryUrl = pulumi.interpolate`${registryHost(args.gcpRegion)}/${args.gcpProject}/${repository.repositoryId}`;
  const imageName = `sms-gateway-${args.runtime}`;
  const cacheRef = pulumi.interpolate`${repositoryUrl}/${imageName}-buildcache:latest`;
  // Push with the deploying identity's token, so no `gcloud auth configure-docker` step is needed.
  const token = gcp.organizations.getClientConfigOutput({ parent }).accessToken;
  const context = programRelative(args.repoRoot);
  const image = new dockerBuild.Image(
    `${name}-image`,
    {
      context: { location: context },
      dockerfile: { location: path.join(context, DOCKERFILES[args.runtime]) },
      // Cloud Run runs linux/amd64 images (https://cloud.google.com/run/docs/container-contract#executables).
      platforms: [dockerBuild.Platform.Linux_amd64],
      tags: imageTags(args.sourceRevision).map((tag) => pulumi.interpolate`${repositoryUrl}/${imageName}:${tag}`),
      // Layers come from the registry when this builder has none (a fresh machine, CI): an unchanged build stage is
      // not run again. imageManifest + ociMediaTypes store the cache as a plain OCI image, which every registry
      // accepts; a failed cache export does not fail the deploy.
      cacheFrom: [{ registry: { ref: cacheRef } }],
      cacheTo: [{ registry: { ref: cacheRef, mode: dockerBuild.CacheMode.Max, imageManifest: true, ociMediaTypes: true, ignoreError: true } }],
      push: true,
      registries: [
        { address: registryHost(args.gcpRegion), username: "oauth2accesstoken", password: pulumi.secret(token) },
      ],
    },
    { parent, dependsOn: [repository] },
  );
  return pulumi.all([repositoryUrl, image.digest]).apply(([url, digest]) => imageByDigest(url, imageName, digest));
}
