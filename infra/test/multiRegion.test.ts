// The balancer and its Cloud Armor policy under Pulumi mocks: what a reviewer would check by hand in the plan.

import { beforeAll, describe, expect, test } from "vitest";
import { PRIORITIES } from "../cloudArmor.js";
import { GatewayLoadBalancer, OUTLIER_DETECTION } from "../loadBalancer.js";
import { multiRegionEntry } from "../multiRegion.js";
import { ARMOR_DEFAULTS, type Topology } from "../regions.js";
import { FAKE_ADDRESS, runComponents, type ComponentRun, type Recorded } from "./componentRun.js";

const NEG = "gcp:compute/regionNetworkEndpointGroup:RegionNetworkEndpointGroup";
const BACKEND = "gcp:compute/backendService:BackendService";
const URL_MAP = "gcp:compute/uRLMap:URLMap";
const CERT = "gcp:compute/managedSslCertificate:ManagedSslCertificate";
const HTTPS_PROXY = "gcp:compute/targetHttpsProxy:TargetHttpsProxy";
const HTTP_PROXY = "gcp:compute/targetHttpProxy:TargetHttpProxy";
const ADDRESS = "gcp:compute/globalAddress:GlobalAddress";
const RULE = "gcp:compute/globalForwardingRule:GlobalForwardingRule";
const POLICY = "gcp:compute/securityPolicy:SecurityPolicy";

const REGIONS = ["us-central1", "europe-west1", "asia-northeast1"];
const THREE: Topology = { kind: "multi-region", regions: REGIONS, domain: "sms.example.com", armor: ARMOR_DEFAULTS };
const services = (regions: readonly string[]) => regions.map((region) => ({ region, service: `gw-${region}` }));

function entry(topology: Topology, regions = REGIONS) {
  return () => {
    const built = multiRegionEntry(topology, { namePrefix: "gw-test", gatewayPath: "/send-sms", services: services(regions) });
    return built && { address: built.loadBalancer.address, uri: built.loadBalancer.uri, certificateName: built.loadBalancer.certificateName };
  };
}

describe("three regions", () => {
  let run: ComponentRun<ReturnType<ReturnType<typeof entry>>>;
  beforeAll(async () => {
    run = await runComponents(entry(THREE));
  });

  test("one serverless NEG per region, each pointing at that region's Cloud Run service", () => {
    const negs = run.byType(NEG);
    expect(negs.map((n) => n.inputs.region)).toEqual(REGIONS);
    for (const neg of negs) {
      expect(neg.inputs.networkEndpointType).toBe("SERVERLESS");
      expect(neg.inputs.cloudRun).toEqual({ service: `gw-${neg.inputs.region}` });
    }
  });

  test("one EXTERNAL_MANAGED backend service holds every NEG, with no health check and Armor attached", () => {
    const backend = run.one(BACKEND).inputs;
    expect(backend.loadBalancingScheme).toBe("EXTERNAL_MANAGED");
    expect(backend.backends.map((b: any) => b.group)).toEqual(
      REGIONS.map((r) => `https://www.googleapis.com/compute/v1/projects/test-project/regions/${r}/networkEndpointGroups/gw-test-neg-${r}`),
    );
    expect(backend.healthChecks).toBeUndefined();
    const policy = run.one(POLICY);
    expect(backend.securityPolicy).toBe(`projects/test-project/global/SecurityPolicy/${policy.name}`);
  });

  test("outlier detection ejects a region on gateway failures and never more than half of them", () => {
    const outlier = run.one(BACKEND).inputs.outlierDetection;
    expect(outlier).toEqual(OUTLIER_DETECTION);
    expect(outlier.enforcingConsecutiveGatewayFailure).toBe(100);
    expect(outlier.maxEjectionPercent).toBeLessThanOrEqual(50);
  });

  test("the managed certificate covers exactly the domain and the HTTPS proxy serves it", () => {
    const cert = run.one(CERT);
    expect(cert.inputs.managed).toEqual({ domains: ["sms.example.com"] });
    const proxy = run.one(HTTPS_PROXY).inputs;
    expect(proxy.sslCertificates).toEqual([`projects/test-project/global/sslCertificates/${cert.name}`]);
    const mainMap = run.byType(URL_MAP).find((m) => m.inputs.defaultService);
    expect(proxy.urlMap).toContain(mainMap!.name);
    expect(mainMap!.inputs.defaultService).toContain(run.one(BACKEND).name);
  });

  test("443 goes to the HTTPS proxy and 80 to a redirect, both on the one global address", () => {
    const rules = run.byType(RULE);
    expect(rules.map((r) => r.inputs.portRange).sort()).toEqual(["443", "80"]);
    for (const rule of rules) {
      expect(rule.inputs.ipAddress).toBe(FAKE_ADDRESS);
      expect(rule.inputs.loadBalancingScheme).toBe("EXTERNAL_MANAGED");
    }
    expect(rules.find((r) => r.inputs.portRange === "443")!.inputs.target).toContain(run.one(HTTPS_PROXY).name);
    const http = rules.find((r) => r.inputs.portRange === "80")!;
    expect(http.inputs.target).toContain(run.one(HTTP_PROXY).name);
    const redirect = run.byType(URL_MAP).find((m) => m.inputs.defaultUrlRedirect)!;
    expect(run.one(HTTP_PROXY).inputs.urlMap).toContain(redirect.name);
    expect(redirect.inputs.defaultUrlRedirect).toEqual({ httpsRedirect: true, redirectResponseCode: "PERMANENT_REDIRECT", stripQuery: false });
    expect(redirect.inputs.defaultService).toBeUndefined();
    expect(run.one(ADDRESS).inputs).toMatchObject({ addressType: "EXTERNAL", ipVersion: "IPV4" });
  });

  test("the outputs: the address for DNS, the URI to register, the certificate's name", () => {
    expect(run.outputs).toEqual({ address: FAKE_ADDRESS, uri: "https://sms.example.com/send-sms", certificateName: run.one(CERT).name });
  });

  test("the Cloud Armor policy is a backend policy with the gateway's rules", () => {
    const policy = run.one(POLICY).inputs;
    expect(policy.type).toBe("CLOUD_ARMOR");
    expect(policy.rules.map((r: any) => r.priority)).toEqual(Object.values(PRIORITIES));
    const throttle = policy.rules.find((r: any) => r.action === "throttle");
    expect(throttle.match.expr.expression).toContain("'^(?:/send-sms|/receipts/twilio|/receipts/telnyx)$'");
    expect(throttle.rateLimitOptions.rateLimitThreshold).toEqual({ count: 6000, intervalSec: 60 });
    expect(policy.rules.at(-1)).toMatchObject({ priority: 2147483647, action: "deny(403)" });
  });

  test("every child name is the prefix, a role and for NEGs the region", () => {
    const names = run.resources.filter((r) => r.type.startsWith("gcp:")).map((r) => r.name);
    expect(names).toContain("gw-test-neg-asia-northeast1");
    for (const name of names) expect(name).toMatch(/^gw-test-[a-z0-9-]+$/);
    expect(new Set(names).size).toBe(names.length);
  });
});

test("two regions: two NEGs, one backend with both", async () => {
  const regions = ["us-east4", "us-west1"];
  const run = await runComponents(entry({ ...THREE, regions }, regions));
  expect(run.byType(NEG)).toHaveLength(2);
  expect(run.one(BACKEND).inputs.backends).toHaveLength(2);
});

test("preview mode reaches the deployed policy", async () => {
  const run = await runComponents(entry({ ...THREE, armor: { ...ARMOR_DEFAULTS, preview: true } }));
  const rules = run.one(POLICY).inputs.rules;
  expect(rules.filter((r: any) => r.preview === true)).toHaveLength(3);
  expect(rules.at(-1)).toMatchObject({ priority: 2147483647, action: "allow" });
});

describe("one region", () => {
  test("creates no balancer, no certificate, no Armor policy: nothing at all", async () => {
    const run = await runComponents(entry({ kind: "single-region", region: "us-central1" }, ["us-central1"]));
    expect(run.outputs).toBeUndefined();
    expect(run.resources).toEqual([]);
  });
});

describe("bad inputs create nothing", () => {
  test.each([
    ["a prefix that would make 63+ character names", { namePrefix: "g".repeat(40) }, "characters too long"],
    ["an uppercase prefix", { namePrefix: "Gateway" }, "must start with a lowercase letter"],
    ["a path Armor cannot match literally", { gatewayPath: "/send sms" }, "gatewayPath must be a URL path"],
    ["services that do not match the regions", { services: services(["us-central1"]) }, "services cover us-central1, the configured regions"],
  ])("%s", async (_, override, message) => {
    const resources: Recorded[] = [];
    const build = () => multiRegionEntry(THREE, { namePrefix: "gw-test", gatewayPath: "/send-sms", services: services(REGIONS), ...override });
    await expect(runComponents(build, resources)).rejects.toThrow(message);
    expect(resources).toEqual([]);
  });

  test("the load balancer alone refuses a repeated region and a URL as the domain, naming both", async () => {
    const resources: Recorded[] = [];
    const build = () =>
      new GatewayLoadBalancer("lb", {
        namePrefix: "gw",
        services: services(["us-central1", "us-central1"]),
        domain: "https://sms.example.com",
        gatewayPath: "/send-sms",
        securityPolicy: "policy",
      });
    await expect(runComponents(build, resources)).rejects.toThrow(/region us-central1 more than once[\s\S]*domain must be a bare hostname/);
    expect(resources).toEqual([]);
  });
});
