// Table tests for the pure config parser: defaults, each validation, and that every problem is reported at once;
// and the secret keys: each read as a secret by the parser is declared `secret: true` in Pulumi.yaml.

import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { parse as parseYaml } from "yaml";
import { ConfigError, MOSAIC_REGIONS, parseConfig, PROJECT, SECRET_CONFIG_KEYS, type ConfigSource } from "../config.js";
import { isConfigSecretFunction } from "../configReader.js";

const P = "mosaic-sms-gateway";
const VALID: Record<string, string> = {
  twilioAccountSid: `AC${"a".repeat(32)}`,
  twilioAuthToken: "token",
  twilioFromNumber: "+15551234567",
  mosaicClientId: "id",
  mosaicClientSecret: "secret",
};
const GCP = { project: "p", region: "europe-west1" };
/** Routes through all three providers, each with valid settings. */
const EVERY_PROVIDER: Record<string, string> = {
  smsRoutes: JSON.stringify({ US: [{ provider: "twilio" }, { provider: "telnyx" }], "*": [{ provider: "smc" }] }),
  smcSubdomain: "mc563885gzs27c5t9-63k636ttgm",
  smcClientId: "client-id-1",
  smcClientSecret: "client-secret-1",
  smcMessageId: "MzA6Nzg6MA",
  telnyxApiKey: "KEY0123456789",
  telnyxFromNumber: "+15551230000",
};

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
      topology: { kind: "single-region", region: "europe-west1" },
      delivery: {
        provider: "twilio",
        routes: undefined,
        failoverOnUnknown: false,
        twilio: {
          accountSid: VALID.twilioAccountSid,
          authToken: "token",
          fromNumber: "+15551234567",
          messagingServiceSid: undefined,
          useSenderId: false,
        },
        smc: undefined,
        telnyx: undefined,
      },
      protection: { sharedState: { kind: "memory" }, settings: {} },
      receipts: { otpValiditySeconds: "600", telnyxPublicKey: undefined },
      observability: {
        enabled: true,
        alertEmail: undefined,
        thresholds: { sendErrorRatio: 0.05, deliveryRatio: 0.9, sendLatencyP99Ms: 2500, unauthorizedPer5Min: 20, minVolume: 20 },
      },
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
    [{ twilioUseSenderId: "true" }, { delivery: { twilio: { useSenderId: true } } }],
    [{ image: "gcr.io/x/y@sha256:00" }, { image: "gcr.io/x/y@sha256:00" }],
    [{ gatewayPath: "/sms/v1" }, { gatewayPath: "/sms/v1" }],
    [{ twilioFromNumber: "12345" }, { delivery: { twilio: { fromNumber: "12345" } } }],
    [
      { twilioFromNumber: undefined, twilioMessagingServiceSid: `MG${"b".repeat(32)}` },
      { delivery: { twilio: { fromNumber: undefined, messagingServiceSid: `MG${"b".repeat(32)}` } } },
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
    // The provider settings are checked by the gateway's own startup rules (gateway/src/config.ts), named by key.
    [{ twilioMessagingServiceSid: `MG${"b".repeat(32)}` }, `Only one of ${P}:twilioFromNumber and ${P}:twilioMessagingServiceSid can be set`],
    [{ twilioFromNumber: undefined }, `One of ${P}:twilioFromNumber or ${P}:twilioMessagingServiceSid is required`],
    [{ twilioFromNumber: "5551234567x" }, `${P}:twilioFromNumber must be an E.164 number`],
    [{ twilioFromNumber: undefined, twilioMessagingServiceSid: "MG1" }, `${P}:twilioMessagingServiceSid must be MG followed by 32 hex`],
    [{ twilioAccountSid: undefined }, `${P}:twilioAccountSid is required`],
    [{ twilioAccountSid: "AB123" }, `${P}:twilioAccountSid must be AC followed by 32 hex`],
    [{ twilioAuthToken: undefined }, `${P}:twilioAuthToken is required while ${P}:smsProvider is twilio (set it with --secret)`],
    [{ smsProvider: "sinch" }, `${P}:smsProvider must be one of twilio, smc, telnyx, log (got "sinch")`],
    [{ failoverOnUnknown: "maybe" }, `${P}:failoverOnUnknown must be true or false`],
    [{ runtime: "bun" }, `${P}:runtime must be one of node, deno (got "bun")`],
    [{ publicAccess: "public" }, `${P}:publicAccess must be one of invoker-iam-disabled, all-users`],
    [{ minInstances: "-1" }, `${P}:minInstances must be an integer from 0 to 1000`],
    [{ maxInstances: "0" }, `${P}:maxInstances must be an integer from 1 to 1000`],
    [{ concurrency: "1.5" }, `${P}:concurrency must be an integer from 1 to 1000`],
    [{ minInstances: "5", maxInstances: "2" }, `${P}:minInstances (5) cannot exceed ${P}:maxInstances (2)`],
    [{ deletionProtection: "yes" }, `${P}:deletionProtection must be true or false`],
    [{ gatewayPath: "send-sms" }, `${P}:gatewayPath must start with / and use URL path characters only`],
    [{ gatewayPath: "/health" }, `${P}:gatewayPath must not be a health path`],
    [{ mosaicRegion: "eu", mosaicBaseUrl: "https://x" }, `Only one of ${P}:mosaicRegion and ${P}:mosaicBaseUrl can be set`],
    [{ mosaicRegion: "mars" }, `${P}:mosaicRegion must be one of us, eu, ca, au, sandbox`],
    [{ mosaicBaseUrl: "ftp://x" }, `${P}:mosaicBaseUrl must be an http(s) URL`],
    // What the registration CLI would refuse later (secretSafeUrlProblem) is refused at preview.
    [{ mosaicBaseUrl: "http://mosaic.example" }, `${P}:mosaicBaseUrl must be an http(s) URL`],
    [{ mosaicBaseUrl: "https://user:pw@mosaic.example" }, `${P}:mosaicBaseUrl must be an http(s) URL`],
    [{ mosaicBaseUrl: "http://user:pw@127.0.0.1:4010" }, `${P}:mosaicBaseUrl must be an http(s) URL`],
    [{ mosaicClientSecret: undefined }, `${P}:mosaicClientSecret is required while ${P}:registerWithMosaic is true`],
    [{ apiKeyGeneration: "0" }, `${P}:apiKeyGeneration must be an integer from 1 to 1000000`],
    [{ apiKeyGeneration: "2", apiKeyRetiredGeneration: "2" }, `${P}:apiKeyRetiredGeneration (2) must be below ${P}:apiKeyGeneration (2)`],
    [{ apiKeyRetiredGeneration: "-1" }, `${P}:apiKeyRetiredGeneration must be an integer from 0 to 1000000`],
    [{ secretReplicaLocations: "europe-west1,EU" }, `${P}:secretReplicaLocations must be comma-separated region names like europe-west1 (got "EU")`],
    [{ secretReplicaLocations: "global" }, `${P}:secretReplicaLocations must be comma-separated region names`],
    // One region rule with infra/regions.ts: at most two digits.
    [{ secretReplicaLocations: "europe-west123" }, `${P}:secretReplicaLocations must be comma-separated region names like europe-west1 (got "europe-west123")`],
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

  test("a secret key is optional and untyped: a typed one would be required on every stack, and Pulumi refuses a typed secret's plain default", () => {
    for (const name of SECRET_CONFIG_KEYS) {
      expect(declared[name], name).toMatchObject({ secret: true, default: "" });
      expect(declared[name], name).not.toHaveProperty("type");
    }
  });

  test("a secret stored in plain text is refused, naming the key and the fix", () => {
    const values = { ...VALID, smsProvider: "telnyx", telnyxApiKey: "KEY0123", telnyxFromNumber: "+15551230000" };
    const plainText = new Set(["telnyxApiKey"]);
    const found = (() => {
      try {
        parseConfig({ ...source(values), storedInPlainText: (name) => plainText.has(name) }, source(GCP), "dev");
      } catch (err) {
        if (err instanceof ConfigError) return err.problems;
        throw err;
      }
      return [];
    })();
    expect(found).toEqual([
      `${P}:telnyxApiKey is stored in plain text in the stack's config file: set it again with ` +
        `\`pulumi config set --secret ${P}:telnyxApiKey\` (and rotate it: the plain value may be in version control)`,
    ]);
  });

  test("no key named like a credential escapes the list", () => {
    const credentialLike = Object.keys(declared).filter((name) => /(secret|token|password|credentials?|privatekey|apikey)$/i.test(name));
    expect(credentialLike.filter((name) => !(SECRET_CONFIG_KEYS as readonly string[]).includes(name))).toEqual([]);
  });

  test("@pulumi/pulumi still tells the program which config values are encrypted; without it the program stops", () => {
    expect(typeof isConfigSecretFunction()).toBe("function");
    expect(() => isConfigSecretFunction({})).toThrow("@pulumi/pulumi no longer exports runtime.isConfigSecret");
  });

  test("the parser reads the secret keys through getSecret only", () => {
    const plain = new Set<string>();
    const secrets = new Set<string>();
    const values: Record<string, string> = { ...VALID, ...EVERY_PROVIDER };
    parseConfig(
      {
        get: (name) => {
          plain.add(name);
          return values[name];
        },
        getSecret: (name) => {
          secrets.add(name);
          return values[name];
        },
      },
      source(GCP),
      "dev",
    );
    expect([...secrets].sort()).toEqual([...SECRET_CONFIG_KEYS].sort());
    for (const name of SECRET_CONFIG_KEYS) expect(plain.has(name), `${PROJECT}:${name} read with get`).toBe(false);
  });
});
