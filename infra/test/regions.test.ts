// Table and property tests for the multi-region settings: defaults, each validation, every problem at once.

import fc from "fast-check";
import { describe, expect, test } from "vitest";
import type { ConfigSource } from "../config.js";
import {
  ARMOR_DEFAULTS,
  ARMOR_INTERVALS_SEC,
  balancedBaseUrl,
  cloudRunExposure,
  hostnameProblem,
  parseRegionList,
  parseTopology,
  type Topology,
} from "../regions.js";

const P = "mosaic-sms-gateway";
const source = (values: Record<string, string | undefined>): ConfigSource<string> => ({ get: (k) => values[k], getSecret: (k) => values[k] });
const parse = (values: Record<string, string | undefined>, gcpRegion: string | undefined = "us-central1") => parseTopology(source(values), gcpRegion);
const TWO = { regions: '["us-central1","europe-west1"]', domain: "sms.example.com" };

describe("parseTopology", () => {
  test("nothing set: one region, gcp:region, exactly today's deploy", () => {
    expect(parse({})).toEqual({ topology: { kind: "single-region", region: "us-central1" }, problems: [] });
  });

  test.each([
    ["an empty list (Pulumi.yaml's default)", { regions: "[]" }, "us-central1"],
    ["an empty string", { regions: "" }, "us-central1"],
    ["one listed region other than gcp:region", { regions: '["europe-west1"]' }, "europe-west1"],
    ["one region as plain text", { regions: "europe-west1" }, "europe-west1"],
  ])("%s is a single region", (_, values, region) => {
    expect(parse(values)).toEqual({ topology: { kind: "single-region", region }, problems: [] });
  });

  test("two regions and a domain: the balancer with Armor's defaults", () => {
    expect(parse(TWO)).toEqual({
      topology: { kind: "multi-region", regions: ["us-central1", "europe-west1"], domain: "sms.example.com", armor: ARMOR_DEFAULTS },
      problems: [],
    });
  });

  test.each([
    [{ regions: "us-central1, europe-west1 ,asia-east1" }, { regions: ["us-central1", "europe-west1", "asia-east1"] }],
    [{ domain: "SMS.Example.COM." }, { domain: "sms.example.com" }],
    [{ armorRateLimitCount: "1000000" }, { armor: { ...ARMOR_DEFAULTS, rateLimitCount: 1_000_000 } }],
    [{ armorRateLimitIntervalSec: "10" }, { armor: { ...ARMOR_DEFAULTS, rateLimitIntervalSec: 10 } }],
    [{ armorMaxRequestBytes: "1024" }, { armor: { ...ARMOR_DEFAULTS, maxRequestBytes: 1024 } }],
    [{ armorPreview: "true" }, { armor: { ...ARMOR_DEFAULTS, preview: true } }],
  ])("%o parses to %o", (values, expected) => {
    const { topology, problems } = parse({ ...TWO, ...values });
    expect(problems).toEqual([]);
    expect(topology).toMatchObject(expected);
  });

  test.each([
    [{ regions: '["us-central1","europe-west1"]' }, `${P}:domain is required with two or more ${P}:regions`],
    [{ regions: '["us-central1",' }, `${P}:regions must be a list of regions`],
    [{ regions: '["us-central1", 7]' }, `${P}:regions must name Cloud Run regions like us-central1 (not 7)`],
    [{ regions: "us-central1,US-EAST1" }, `${P}:regions must name Cloud Run regions like us-central1 (not "US-EAST1")`],
    [{ regions: "us-central1,us-central1,europe-west1" }, `${P}:regions lists us-central1 more than once`],
    [{ ...TWO, domain: "https://sms.example.com/send-sms" }, `${P}:domain must be a bare hostname`],
    [{ ...TWO, domain: "*.example.com" }, `${P}:domain cannot be a wildcard`],
    [{ ...TWO, domain: "localhost" }, `${P}:domain must be a fully qualified hostname`],
    [{ ...TWO, domain: "203.0.113.7" }, `${P}:domain must be a hostname, not an IP address`],
    [{ ...TWO, domain: "-bad.example.com" }, `${P}:domain must be dot-separated labels`],
    [{ ...TWO, armorRateLimitCount: "0" }, `${P}:armorRateLimitCount must be an integer from 1 to 1000000 (got "0")`],
    [{ ...TWO, armorRateLimitIntervalSec: "45" }, `${P}:armorRateLimitIntervalSec must be one of 10, 30, 60,`],
    [{ ...TWO, armorMaxRequestBytes: "512" }, `${P}:armorMaxRequestBytes must be an integer from 1024 to 1048576`],
    [{ ...TWO, armorPreview: "yes" }, `${P}:armorPreview must be true or false (got "yes")`],
    [{ domain: "sms.example.com" }, `${P}:domain is only used with two or more ${P}:regions`],
  ])("%o fails naming the key", (values, message) => {
    expect(parse(values).problems.join("\n")).toContain(message);
  });

  test("every problem at once, each with its fully qualified key", () => {
    const { problems } = parse({ regions: "us-central1,europe-west1", armorRateLimitCount: "-1", armorRateLimitIntervalSec: "7", armorPreview: "1" });
    expect(problems).toHaveLength(4);
    for (const problem of problems) expect(problem).toMatch(new RegExp(`^${P}:(domain|armorRateLimitCount|armorRateLimitIntervalSec|armorPreview) `));
  });

  test("balancer-only keys with a single region are named together", () => {
    expect(parse({ domain: "sms.example.com", armorPreview: "true" }).problems).toEqual([
      `${P}:domain, ${P}:armorPreview are only used with two or more ${P}:regions (behind the load balancer); unset them or add a region`,
    ]);
  });

  test("balancer keys at their defaults (as Pulumi.yaml defaults arrive) are not stray with one region", () => {
    const defaults = { armorRateLimitCount: "6000", armorRateLimitIntervalSec: "60", armorMaxRequestBytes: "16384", armorPreview: "false" };
    expect(parse(defaults).problems).toEqual([]);
  });

  test("an unreadable regions list is the only problem reported, not the domain as well", () => {
    expect(parse({ regions: '["us-central1", 7]', domain: "sms.example.com" }).problems).toEqual([
      `${P}:regions must name Cloud Run regions like us-central1 (not 7)`,
    ]);
  });

  test("a missing gcp:region adds no problem here (parseConfig names it)", () => {
    expect(parseTopology(source({}), undefined)).toEqual({ topology: { kind: "single-region", region: "" }, problems: [] });
  });
});

const region = fc.tuple(fc.stringMatching(/^[a-z]{2,12}$/), fc.stringMatching(/^[a-z]{2,12}$/), fc.integer({ min: 1, max: 99 })).map(([a, b, n]) => `${a}-${b}${n}`);

describe("properties", () => {
  test("any list of distinct region names round-trips, as JSON or comma-separated", () => {
    fc.assert(
      fc.property(fc.uniqueArray(region, { minLength: 1, maxLength: 6 }), (regions) => {
        for (const raw of [JSON.stringify(regions), regions.join(",")]) {
          const problems: string[] = [];
          expect(parseRegionList(raw, problems)).toEqual(regions);
          expect(problems).toEqual([]);
        }
      }),
    );
  });

  test("a list with a repeated region is refused, whatever else it holds", () => {
    fc.assert(
      fc.property(fc.uniqueArray(region, { minLength: 1, maxLength: 5 }), fc.nat(), (regions, pick) => {
        const problems: string[] = [];
        const repeated = [...regions, regions[pick % regions.length]!];
        expect(parseRegionList(JSON.stringify(repeated), problems)).toEqual([]);
        expect(problems.join()).toContain("more than once");
      }),
    );
  });

  test("generated valid hostnames are accepted; adding a scheme, a path, a port or a space never is", () => {
    const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?$/);
    const tld = fc.stringMatching(/^[a-z]{2,10}$/);
    fc.assert(
      fc.property(fc.array(label, { minLength: 1, maxLength: 4 }), tld, (labels, top) => {
        const host = [...labels, top].join(".");
        expect(hostnameProblem(host)).toBeUndefined();
        for (const bad of [`https://${host}`, `${host}/send-sms`, `${host}:443`, `${host} x`]) expect(hostnameProblem(bad)).toBeDefined();
      }),
    );
  });

  test("parseTopology never throws, and a problem always names a mosaic-sms-gateway key", () => {
    const keys = ["regions", "domain", "armorRateLimitCount", "armorRateLimitIntervalSec", "armorMaxRequestBytes", "armorPreview"];
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom(...keys), fc.string({ maxLength: 40 })), (values) => {
        for (const problem of parseTopology(source(values), "us-central1").problems) expect(problem).toMatch(new RegExp(`^${P}:`));
      }),
    );
  });

  test("every documented interval is accepted", () => {
    for (const seconds of ARMOR_INTERVALS_SEC) expect(parse({ ...TWO, armorRateLimitIntervalSec: String(seconds) }).problems).toEqual([]);
  });
});

describe("what the topology decides for Cloud Run and the registered URI", () => {
  const single: Topology = { kind: "single-region", region: "us-central1" };
  const multi = parse(TWO).topology;

  test("one region keeps today's public service and sets nothing new", () => {
    expect(cloudRunExposure(single)).toEqual({ ingress: "INGRESS_TRAFFIC_ALL" });
    expect(balancedBaseUrl(single)).toBeUndefined();
  });

  test("several regions: only the balancer reaches a service, and run.app stops resolving", () => {
    expect(cloudRunExposure(multi)).toEqual({ ingress: "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER", defaultUriDisabled: true });
    expect(balancedBaseUrl(multi)).toBe("https://sms.example.com");
  });
});
