// Where the gateway image comes from: a prebuilt reference, or a build of this repository pushed to an
// Artifact Registry repository and deployed by digest (a tag can move; a digest names exactly what was tested).

import * as path from "node:path";
import * as dockerBuild from "@pulumi/docker-build";
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import type { Runtime } from "./config.js";

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

export interface GatewayImageArgs {
  gcpProject: string;
  gcpRegion: string;
  runtime: Runtime;
  /** Absolute path of the repository root: the Docker build context. */
  repoRoot: string;
  /** Resources the registry waits for (the enabled APIs). */
  dependsOn: pulumi.Input<pulumi.Resource>[];
}

/** Builds `gateway/` for the chosen runtime and pushes it; returns the by-digest reference. */
export function buildGatewayImage(name: string, args: GatewayImageArgs, parent: pulumi.Resource): pulumi.Output<string> {
  const repository = new gcp.artifactregistry.Repository(
    `${name}-images`,
    {
      repositoryId: `${name}-images`,
      location: args.gcpRegion,
      format: "DOCKER",
      description: "Container images of the Mosaic SMS gateway",
    },
    { parent, dependsOn: args.dependsOn },
  );
  const repositoryUrl = pulumi.interpolate`${registryHost(args.gcpRegion)}/${args.gcpProject}/${repository.repositoryId}`;
  const imageName = `sms-gateway-${args.runtime}`;
  // Push with the deploying identity's token, so no `gcloud auth configure-docker` step is needed.
  const token = gcp.organizations.getClientConfigOutput({ parent }).accessToken;
  const image = new dockerBuild.Image(
    `${name}-image`,
    {
      // A path relative to the program's working directory (infra/ under the CLI) keeps the state free of
      // machine-specific absolute paths.
      context: { location: path.relative(process.cwd(), args.repoRoot) || "." },
      dockerfile: { location: path.join(path.relative(process.cwd(), args.repoRoot) || ".", DOCKERFILES[args.runtime]) },
      // Cloud Run runs linux/amd64 images (https://cloud.google.com/run/docs/container-contract#executables).
      platforms: [dockerBuild.Platform.Linux_amd64],
      tags: [pulumi.interpolate`${repositoryUrl}/${imageName}:latest`],
      push: true,
      registries: [
        { address: registryHost(args.gcpRegion), username: "oauth2accesstoken", password: pulumi.secret(token) },
      ],
    },
    { parent, dependsOn: [repository] },
  );
  return pulumi.all([repositoryUrl, image.digest]).apply(([url, digest]) => imageByDigest(url, imageName, digest));
}
