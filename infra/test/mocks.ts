// Pulumi unit-test mocks shared by the infra suites: realistic outputs for every resource type the program
// creates (so pinning, URLs and digests can be asserted), and nothing that reaches a cloud or the network.

import { createHash } from "node:crypto";
import type * as pulumi from "@pulumi/pulumi";

export const PROJECT_NUMBER = "123456789012";
/** The key a mock RandomPassword "generates": 48 header-safe characters, distinct per resource and generation. */
export function fakeApiKey(name: string, generation: string | undefined): string {
  const tag = `${name.replace(/[^A-Za-z0-9]/g, "")}G${generation ?? "1"}`;
  return (tag + "Q7-_".repeat(12)).slice(0, 48);
}
/** The key of the default stack (generation 1, the odd slot). */
export const FAKE_API_KEY = fakeApiKey("sms-gateway-api-key-odd", undefined);
export const FAKE_DIGEST = `sha256:${"ab".repeat(32)}`;
export const FAKE_ACCESS_TOKEN = "ya29.fake-access-token";

/** The region part of a run.app URL (`<service>-<hash>-<region code>.a.run.app`). */
const REGION_CODES: Record<string, string> = { "us-central1": "uc", "europe-west1": "ew" };

/** A service's URL as Cloud Run gives it: `https://<service>-<hash>-<region code>.a.run.app`. */
export function mockServiceUri(service: string, location: string): string {
  return `https://${service}-abc123-${REGION_CODES[location] ?? location}.a.run.app`;
}

/** The number Secret Manager gives a new version: here one per payload, so new data is a new version, as in the
 * real service (where numbers only grow). */
export function mockVersionNumber(secretData: unknown): string {
  const value = secretData && typeof secretData === "object" && "value" in secretData ? secretData.value : secretData;
  const data = typeof value === "string" ? value : JSON.stringify(value);
  return String(2 + (parseInt(createHash("sha256").update(data).digest("hex").slice(0, 6), 16) % 997));
}

const COMPUTE = "https://www.googleapis.com/compute/v1/projects/test-project";
/** The balancer's reserved global address. */
export const FAKE_ADDRESS = "203.0.113.7";

/** What a Memorystore instance with AUTH and TLS reports: its address, the TLS port, the AUTH string and CA. */
export function mockRedis(region: string) {
  const index = Object.keys(REGION_CODES).indexOf(region) + 1;
  return {
    host: `10.20.${index}.3`,
    port: 6378,
    authString: `redis-auth-string-${region}`,
    serverCaCerts: [
      { cert: `-----BEGIN CERTIFICATE-----\nMIIB${region}\n-----END CERTIFICATE-----\n`, serialNumber: "1", sha1Fingerprint: "ab" },
    ],
  };
}

/** Resource states as the real providers would report them after create. */
export function mockState(type: string, name: string, inputs: Record<string, any>): { id: string; state: Record<string, any> } {
  switch (type) {
    case "gcp:secretmanager/secret:Secret": {
      const id = `projects/${inputs.project ?? "p"}/secrets/${inputs.secretId}`;
      return { id, state: { ...inputs, name: `projects/${PROJECT_NUMBER}/secrets/${inputs.secretId}` } };
    }
    case "gcp:secretmanager/secretVersion:SecretVersion": {
      const secretName = String(inputs.secret).replace(/^projects\/[^/]+/, `projects/${PROJECT_NUMBER}`);
      const version = mockVersionNumber(inputs.secretData);
      const versionName = `${secretName}/versions/${version}`;
      return { id: versionName, state: { ...inputs, version, name: versionName } };
    }
    case "gcp:serviceaccount/account:Account":
      return { id: `${name}-id`, state: { ...inputs, email: `${inputs.accountId}@test-project.iam.gserviceaccount.com` } };
    case "gcp:cloudrunv2/service:Service":
      return { id: `${name}-id`, state: { ...inputs, uri: mockServiceUri(inputs.name, inputs.location) } };
    case "gcp:artifactregistry/repository:Repository":
      return {
        id: `${name}-id`,
        state: { ...inputs, registryUri: `${inputs.location}-docker.pkg.dev/test-project/${inputs.repositoryId}` },
      };
    case "docker-build:index:Image":
      return { id: `${name}-id`, state: { ...inputs, digest: FAKE_DIGEST, ref: `${inputs.tags?.[0]}@${FAKE_DIGEST}` } };
    case "random:index/randomPassword:RandomPassword":
      return { id: `${name}-id`, state: { ...inputs, result: fakeApiKey(name, inputs.keepers?.generation) } };
    case "gcp:secretmanager/secretIamMember:SecretIamMember":
      return { id: `${inputs.secretId}/${inputs.role}/${inputs.member}`, state: { ...inputs, etag: "BwYAAAAAAAA=" } };
    case "gcp:compute/network:Network":
      return { id: `projects/test-project/global/networks/${inputs.name}`, state: { ...inputs, selfLink: `${COMPUTE}/global/networks/${inputs.name}` } };
    case "gcp:compute/subnetwork:Subnetwork":
      return { id: `projects/test-project/regions/${inputs.region}/subnetworks/${inputs.name}`, state: inputs };
    case "gcp:redis/instance:Instance":
      return { id: `projects/test-project/locations/${inputs.region}/instances/${inputs.name}`, state: { ...inputs, ...mockRedis(inputs.region) } };
    // The balancer's Compute resources, as the real provider reports them: self links, the reserved address.
    case "gcp:compute/regionNetworkEndpointGroup:RegionNetworkEndpointGroup":
      return { id: `projects/test-project/regions/${inputs.region}/networkEndpointGroups/${name}`, state: { ...inputs, name, selfLink: `${COMPUTE}/regions/${inputs.region}/networkEndpointGroups/${name}` } };
    case "gcp:compute/globalAddress:GlobalAddress":
      return { id: `projects/test-project/global/addresses/${name}`, state: { ...inputs, name: inputs.name ?? name, address: FAKE_ADDRESS } };
    case "gcp:compute/managedSslCertificate:ManagedSslCertificate":
      return { id: `projects/test-project/global/sslCertificates/${name}`, state: { ...inputs, name } };
    case "gcp:compute/backendService:BackendService":
    case "gcp:compute/uRLMap:URLMap":
    case "gcp:compute/targetHttpsProxy:TargetHttpsProxy":
    case "gcp:compute/targetHttpProxy:TargetHttpProxy":
    case "gcp:compute/securityPolicy:SecurityPolicy":
    case "gcp:compute/globalForwardingRule:GlobalForwardingRule":
      return { id: `projects/test-project/global/${type.split(":").at(-1)}/${name}`, state: { ...inputs, name } };
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
    if (args.token === "gcp:organizations/getProject:getProject") {
      return { projectId: args.inputs.projectId, number: PROJECT_NUMBER, name: args.inputs.projectId, id: `projects/${args.inputs.projectId}` };
    }
    throw new Error(`unexpected invoke ${args.token} in a unit test`);
  },
};
