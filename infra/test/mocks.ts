// Pulumi unit-test mocks shared by the infra suites: realistic outputs for every resource type the program
// creates (so pinning, URLs and digests can be asserted), and nothing that reaches a cloud or the network.

import type * as pulumi from "@pulumi/pulumi";

export const PROJECT_NUMBER = "123456789012";
export const FAKE_API_KEY = "k".repeat(20) + "Q7-_".repeat(7);
export const FAKE_DIGEST = `sha256:${"ab".repeat(32)}`;
export const FAKE_ACCESS_TOKEN = "ya29.fake-access-token";

/** Resource states as the real providers would report them after create. */
export function mockState(type: string, name: string, inputs: Record<string, any>): { id: string; state: Record<string, any> } {
  switch (type) {
    case "gcp:secretmanager/secret:Secret": {
      const id = `projects/${inputs.project ?? "p"}/secrets/${inputs.secretId}`;
      return { id, state: { ...inputs, name: `projects/${PROJECT_NUMBER}/secrets/${inputs.secretId}` } };
    }
    case "gcp:secretmanager/secretVersion:SecretVersion": {
      const secretName = String(inputs.secret).replace(/^projects\/[^/]+/, `projects/${PROJECT_NUMBER}`);
      const versionName = `${secretName}/versions/3`;
      return { id: versionName, state: { ...inputs, version: "3", name: versionName } };
    }
    case "gcp:serviceaccount/account:Account":
      return { id: `${name}-id`, state: { ...inputs, email: `${inputs.accountId}@test-project.iam.gserviceaccount.com` } };
    case "gcp:cloudrunv2/service:Service":
      return { id: `${name}-id`, state: { ...inputs, uri: `https://${inputs.name}-abc123-uc.a.run.app` } };
    case "gcp:artifactregistry/repository:Repository":
      return {
        id: `${name}-id`,
        state: { ...inputs, registryUri: `${inputs.location}-docker.pkg.dev/test-project/${inputs.repositoryId}` },
      };
    case "docker-build:index:Image":
      return { id: `${name}-id`, state: { ...inputs, digest: FAKE_DIGEST, ref: `${inputs.tags?.[0]}@${FAKE_DIGEST}` } };
    case "random:index/randomPassword:RandomPassword":
      return { id: `${name}-id`, state: { ...inputs, result: FAKE_API_KEY } };
    case "command:local:Command":
      return { id: `${name}-id`, state: { ...inputs, stdout: '{"ok":true}', stderr: "" } };
    default:
      return { id: `${name}-id`, state: inputs };
  }
}

export const mocks: pulumi.runtime.Mocks = {
  newResource: (args) => mockState(args.type, args.name, args.inputs),
  call: (args) => {
    if (args.token === "gcp:organizations/getClientConfig:getClientConfig") {
      return { accessToken: FAKE_ACCESS_TOKEN, project: "test-project", region: "us-central1", id: "x", zone: "" };
    }
    throw new Error(`unexpected invoke ${args.token} in a unit test`);
  },
};
