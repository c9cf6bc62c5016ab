// Table tests for the pure config parser: defaults, each validation, and that every problem is reported at once;
// and the secret keys: each read as a secret by the parser is declared `secret: true` in Pulumi.yaml.

import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { parse as parseYaml } from "yaml";
import { ConfigError, MOSAIC_REGIONS, parseConfig, PROJECT, SECRET_CONFIG_KEYS, type ConfigSource } from "../config.js";

const P = "mosaic-sms-gateway";
const VALID: Record<string, string> = {
  twilioAccountSid: `AC${"a".repeat(32)}`,
  twilioAuthToken: "token",
  twilioFromNumber: "+15551234567",
  mosaicClientId: "id",
  mosaicClientSecret: "secret",
};
const GCP = { project: "p", region: "europe-west1" };

function source(values: Record<string, string | undefined>): ConfigSource<string> {
  const get = (k: string) => values[k];
  return { get, getSecret: get };
}

function parse(overrides: Record<string, string | undefined> = {}, gcp: Record<string, string | undefined> = GCP) {
  return parseConfig(source({ ...VALID, ...overrides }), source(gcp), "dev");
}

function problems(overrides: Record<string, string | undefined>, gcp?: Record<string, string | undefined>) {
  try {
    parse(overrides, gcp);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error("expected a ConfigError");
}

describe("parseConfig", () => {
  test("applies every default", () => {
    expect(parse()).toEqual({
      stack: "dev",
      gcpProject: "p",
      gcpRegion: "europe-west1",
      twilioAccountSid: VALID.twilioAccountSid,
      twilioAuthToken: "token",
      twilioSender: { fromNumber: "+15551234567" },
      twilioUseSenderId: false,
      runtime: "deno",
      image: undefined,
      gatewayPath: "/send-sms",
      minInstances: 1,
      maxInstances: 10,
      concurrency: 80,
      publicAccess: "invoker-iam-disabled",
      deletionProtection: true,
      apiKey: { generation: 1, retiredGeneration: 0 },
      secretReplication: { kind: "automatic" },
      mosaic: { baseUrl: MOSAIC_REGIONS.us, clientId: "id", clientSecret: "secret" },
    });
  });

  test.each([
    [{ runtime: "node" }, { runtime: "node" }],
    [{ minInstances: "0", maxInstances: "2" }, { minInstances: 0, maxInstances: 2 }],
    [{ concurrency: "250" }, { concurrency: 250 }],
    [{ publicAccess: "all-users" }, { publicAccess: "all-users" }],
    [{ deletionProtection: "false" }, { deletionProtection: false }],
    [{ twilioUseSenderId: "true" }, { twilioUseSenderId: true }],
    [{ image: "gcr.io/x/y@sha256:00" }, { image: "gcr.io/x/y@sha256:00" }],
    [{ gatewayPath: "/sms/v1" }, { gatewayPath: "/sms/v1" }],
    [{ twilioFromNumber: "12345" }, { twilioSender: { fromNumber: "12345" } }],
    [
      { twilioFromNumber: undefined, twilioMessagingServiceSid: `MG${"b".repeat(32)}` },
      { twilioSender: { messagingServiceSid: `MG${"b".repeat(32)}` } },
    ],
    [{ mosaicRegion: "sandbox" }, { mosaic: { baseUrl: MOSAIC_REGIONS.sandbox, clientId: "id", clientSecret: "secret" } }],
    [
      { mosaicBaseUrl: "http://127.0.0.1:4010/" },
      { mosaic: { baseUrl: "http://127.0.0.1:4010", clientId: "id", clientSecret: "secret" } },
    ],
    [{ registerWithMosaic: "false", mosaicClientId: undefined, mosaicClientSecret: undefined }, { mosaic: undefined }],
    [{ apiKeyGeneration: "3", apiKeyRetiredGeneration: "2" }, { apiKey: { generation: 3, retiredGeneration: 2 } }],
    [
      { secretReplicaLocations: " europe-west4, europe-west1,europe-west4 " },
      { secretReplication: { kind: "user-managed", locations: ["europe-west1", "europe-west4"] } },
    ],
    [{ secretReplicaLocations: "northamerica-northeast2" }, { secretReplication: { kind: "user-managed", locations: ["northamerica-northeast2"] } }],
  ])("%o parses to %o", (overrides, expected) => {
    expect(parse(overrides)).toMatchObject(expected);
  });

  test.each([
    [{ twilioMessagingServiceSid: `MG${"b".repeat(32)}` }, `Only one of ${P}:twilioFromNumber and ${P}:twilioMessagingServiceSid can be set`],
    [{ twilioFromNumber: undefined }, `One of ${P}:twilioFromNumber or ${P}:twilioMessagingServiceSid is required`],
    [{ twilioFromNumber: "5551234567x" }, `${P}:twilioFromNumber must be an E.164 number`],
    [{ twilioFromNumber: undefined, twilioMessagingServiceSid: "MG1" }, `${P}:twilioMessagingServiceSid must look like MG`],
    [{ twilioAccountSid: undefined }, `${P}:twilioAccountSid is required`],
    [{ twilioAccountSid: "AB123" }, `${P}:twilioAccountSid must look like AC`],
    [{ twilioAuthToken: undefined }, `${P}:twilioAuthToken is required (set it with --secret)`],
    [{ runtime: "bun" }, `${P}:runtime must be one of node, deno (got "bun")`],
    [{ publicAccess: "public" }, `${P}:publicAccess must be one of invoker-iam-disabled, all-users`],
    [{ minInstances: "-1" }, `${P}:minInstances must be an integer from 0 to 1000`],
    [{ maxInstances: "0" }, `${P}:maxInstances must be an integer from 1 to 1000`],
    [{ concurrency: "1.5" }, `${P}:concurrency must be an integer from 1 to 1000`],
    [{ minInstances: "5", maxInstances: "2" }, `${P}:minInstances (5) cannot exceed ${P}:maxInstances (2)`],
    [{ deletionProtection: "yes" }, `${P}:deletionProtection must be true or false`],
    [{ gatewayPath: "send-sms" }, `${P}:gatewayPath must be a URL path`],
    [{ mosaicRegion: "eu", mosaicBaseUrl: "https://x" }, `Only one of ${P}:mosaicRegion and ${P}:mosaicBaseUrl can be set`],
    [{ mosaicRegion: "mars" }, `${P}:mosaicRegion must be one of us, eu, ca, au, sandbox`],
    [{ mosaicBaseUrl: "ftp://x" }, `${P}:mosaicBaseUrl must be an http(s) URL`],
    [{ mosaicClientSecret: undefined }, `${P}:mosaicClientSecret is required while ${P}:registerWithMosaic is true`],
    [{ apiKeyGeneration: "0" }, `${P}:apiKeyGeneration must be an integer from 1 to 1000000`],
    [{ apiKeyGeneration: "2", apiKeyRetiredGeneration: "2" }, `${P}:apiKeyRetiredGeneration (2) must be below ${P}:apiKeyGeneration (2)`],
    [{ apiKeyRetiredGeneration: "-1" }, `${P}:apiKeyRetiredGeneration must be an integer from 0 to 1000000`],
    [{ secretReplicaLocations: "europe-west1,EU" }, `${P}:secretReplicaLocations must be comma-separated region names like europe-west1 (got "EU")`],
    [{ secretReplicaLocations: "global" }, `${P}:secretReplicaLocations must be comma-separated region names`],
  ])("%o fails naming the key", (overrides, message) => {
    expect(problems(overrides).join("\n")).toContain(message);
  });

  test("names the gcp provider keys", () => {
    expect(problems({}, {})).toEqual([
      "gcp:project is required: the Google Cloud project to deploy into",
      "gcp:region is required: the Cloud Run region, e.g. us-central1",
    ]);
  });

  test("reports every problem at once", () => {
    const found = problems({ twilioAccountSid: undefined, twilioFromNumber: undefined, runtime: "bun", mosaicClientId: undefined });
    expect(found).toHaveLength(4);
    expect(() => parse({ runtime: "bun" })).toThrow(/^Invalid stack configuration:\n {2}- /);
  });
});

describe("secret config keys", () => {
  const declared = (parseYaml(readFileSync(new URL("../../Pulumi.yaml", import.meta.url), "utf8")) as { config: Record<string, { secret?: boolean }> })
    .config;

  test("every key the parser reads as a secret is declared secret: true, and no other", () => {
    const secret = Object.entries(declared)
      .filter(([, spec]) => spec.secret === true)
      .map(([name]) => name);
    expect(secret.sort()).toEqual([...SECRET_CONFIG_KEYS].sort());
  });

  test("a secret key has no default: Pulumi would apply it in plain text and then refuse it", () => {
    for (const name of SECRET_CONFIG_KEYS) expect(declared[name], name).not.toHaveProperty("default");
  });

  test("no key named like a credential escapes the list", () => {
    const credentialLike = Object.keys(declared).filter((name) => /(secret|token|password|credentials?|privatekey|apikey)$/i.test(name));
    expect(credentialLike.filter((name) => !(SECRET_CONFIG_KEYS as readonly string[]).includes(name))).toEqual([]);
  });

  test("the parser reads the secret keys through getSecret only", () => {
    const plain = new Set<string>();
    const secrets = new Set<string>();
    parseConfig(
      {
        get: (name) => {
          plain.add(name);
          return { ...VALID }[name];
        },
        getSecret: (name) => {
          secrets.add(name);
          return { ...VALID }[name];
        },
      },
      source(GCP),
      "dev",
    );
    expect([...secrets].sort()).toEqual([...SECRET_CONFIG_KEYS].sort());
    for (const name of SECRET_CONFIG_KEYS) expect(plain.has(name), `${PROJECT}:${name} read with get`).toBe(false);
  });
});
