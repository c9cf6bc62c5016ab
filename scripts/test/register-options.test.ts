import { describe, expect, it } from "vitest";
import { parseOptions } from "../register/options.ts";
import { REGIONS } from "../register/regions.ts";

const baseEnv = {
  MOSAIC_CLIENT_ID: "cid",
  MOSAIC_CLIENT_SECRET: "csecret",
  GATEWAY_URI: "https://gw.example.com/send-sms",
  GATEWAY_API_KEY: "gwkey",
};

function ok(argv: string[], env: Record<string, string | undefined> = baseEnv) {
  const r = parseOptions(argv, env);
  if (r.kind !== "ok") throw new Error(`expected ok, got ${JSON.stringify(r)}`);
  return r.options;
}
function errors(argv: string[], env: Record<string, string | undefined> = baseEnv) {
  const r = parseOptions(argv, env);
  if (r.kind !== "error") throw new Error(`expected errors, got ${JSON.stringify(r)}`);
  return r.errors;
}

describe("parseOptions: base URL", () => {
  it.each([
    [[], {}, REGIONS.us],
    [["--region", "eu"], {}, REGIONS.eu],
    [["--region=sandbox"], {}, REGIONS.sandbox],
    [[], { MOSAIC_REGION: "ca" }, REGIONS.ca],
    [[], { MOSAIC_BASE_URL: "http://127.0.0.1:9999/" }, "http://127.0.0.1:9999"],
    [["--region", "au"], { MOSAIC_BASE_URL: "https://x.example" }, REGIONS.au],
    [["--base-url", "https://y.example"], { MOSAIC_REGION: "eu" }, "https://y.example"],
  ] as const)("%j with env %j → %s", (argv, env, expected) => {
    expect(ok([...argv], { ...baseEnv, ...env }).baseUrl).toBe(expected);
  });

  it.each([
    [["--region", "mars"], {}, /--region must be one of us, eu, ca, au, sandbox/],
    [["--region", "eu", "--base-url", "https://x.example"], {}, /only one of --base-url and --region/],
    [[], { MOSAIC_REGION: "eu", MOSAIC_BASE_URL: "https://x.example" }, /only one of MOSAIC_BASE_URL and MOSAIC_REGION/],
    [[], { MOSAIC_BASE_URL: "http://api.example.com" }, /MOSAIC_BASE_URL must be an https URL/],
    [[], { MOSAIC_BASE_URL: "not a url" }, /MOSAIC_BASE_URL is not a URL/],
  ] as const)("%j with env %j is refused", (argv, env, message) => {
    expect(errors([...argv], { ...baseEnv, ...env }).join("\n")).toMatch(message);
  });
});

describe("parseOptions: inputs", () => {
  it("reads everything from env alone (the Pulumi local.Command path)", () => {
    expect(ok(["--json"])).toEqual({
      mode: "register",
      baseUrl: REGIONS.us,
      clientId: "cid",
      clientSecret: "csecret",
      gatewayUri: "https://gw.example.com/send-sms",
      apiKey: "gwkey",
      dryRun: false,
      json: true,
      timeoutMs: 10_000,
      retries: 3,
    });
  });

  it("names every bad flag and variable at once", () => {
    const all = errors(["stray", "--nope", "--json=yes", "--retries", "-1", "--timeout-ms", "0", "--gateway-uri"], {});
    expect(all).toEqual(
      expect.arrayContaining([
        "unknown flag --nope",
        "unexpected argument 1 (not printed: it could hold a secret)",
        "--json takes no value",
        "--gateway-uri needs a value",
        "MOSAIC_CLIENT_ID (or --client-id) is required",
        "MOSAIC_CLIENT_SECRET is required (env only, never a flag)",
        "GATEWAY_URI (or --gateway-uri, or --from-stack) is required",
        "GATEWAY_API_KEY (or --api-key-secret, or --from-stack) is required",
        "--timeout-ms must be an integer >= 1",
      ]),
    );
    // "-1" is read as --retries' value, so the problem is named as a bad value, not a stray flag.
    expect(all).toContain("--retries must be an integer >= 0");
  });

  it("never accepts the client secret or the API key as a flag (they would show in `ps`)", () => {
    const env = "secrets are read from the environment only (MOSAIC_CLIENT_SECRET, GATEWAY_API_KEY), never from flags";
    expect(errors(["--client-secret", "x"])).toContain(`unknown flag --client-secret: ${env}`);
    expect(errors(["--api-key", "x"])).toContain(`unknown flag --api-key: ${env}`);
  });

  // Issue 8, item 7: `--client-secret VALUE` printed `unexpected argument "VALUE"`, on stderr and in --json.
  it.each([
    ["a secret flag's value", ["--client-secret", "s3cr3t-value-1"]],
    ["a secret flag's inline value", ["--client-secret=s3cr3t-value-1"]],
    ["any unknown flag's value", ["--bogus", "s3cr3t-value-1"]],
    ["a stray argument", ["s3cr3t-value-1"]],
    ["a flag-shaped secret", ["--s3cr3t-VALUE-1!"]],
    ["a bad region", ["--region", "s3cr3t-value-1"]],
  ])("never prints an argument's value: %s", (_label, argv) => {
    const all = errors(argv).join("\n");
    expect(all).not.toContain("s3cr3t");
    expect(all).not.toContain("VALUE");
  });

  it("an unknown flag takes its value with it: no second error for it", () => {
    expect(errors(["--client-secret", "abc", "--json"]).filter((e) => e.includes("argument"))).toEqual([]);
  });

  it.each([
    ["https://gw.example.com/send-sms", true],
    ["http://127.0.0.1:8080/send-sms", true],
    ["http://localhost:8080/send-sms", true],
    ["http://gw.example.com/send-sms", false],
    ["https://user:pw@gw.example.com/send-sms", false],
    ["ftp://gw.example.com", false],
  ])("GATEWAY_URI %s accepted: %s", (uri, accepted) => {
    const r = parseOptions([], { ...baseEnv, GATEWAY_URI: uri });
    expect(r.kind === "ok").toBe(accepted);
  });

  it("takes the API key from Secret Manager by version name", () => {
    const o = ok(["--api-key-secret", "projects/p/secrets/s/versions/3"], { ...baseEnv, GATEWAY_API_KEY: undefined });
    expect(o.apiKeySecret).toBe("projects/p/secrets/s/versions/3");
    expect(o.apiKey).toBeUndefined();
    expect(ok([], { ...baseEnv, GATEWAY_API_KEY: "", GATEWAY_API_KEY_SECRET: "projects/p/secrets/s/versions/latest" }).apiKeySecret).toBe(
      "projects/p/secrets/s/versions/latest",
    );
  });

  it.each([
    [["--api-key-secret", "projects/p/secrets/s"], { GATEWAY_API_KEY: undefined }, /must look like projects\/P\/secrets\/S\/versions\/V/],
    [["--api-key-secret", "projects/p/secrets/s/versions/1"], {}, /only one of GATEWAY_API_KEY and --api-key-secret/],
  ] as const)("API key sources %j are refused", (argv, env, message) => {
    expect(errors([...argv], { ...baseEnv, ...env }).join("\n")).toMatch(message);
  });

  it.each([
    [["--from-stack"], {}],
    [["--from-stack", "--json"], {}],
    [["--from-stack", "prod"], { stack: "prod" }],
    [["--from-stack=dev"], { stack: "dev" }],
  ])("%j → fromStack %j, gateway values optional", (argv, fromStack) => {
    const o = ok(argv, { MOSAIC_CLIENT_ID: "c", MOSAIC_CLIENT_SECRET: "s" });
    expect(o.fromStack).toEqual(fromStack);
    expect(o.gatewayUri).toBeUndefined();
  });

  it("--revert needs no gateway inputs", () => {
    const o = ok(["--revert", "--dry-run"], { MOSAIC_CLIENT_ID: "c", MOSAIC_CLIENT_SECRET: "s" });
    expect(o).toMatchObject({ mode: "revert", dryRun: true });
  });

  it("--help and -h win over errors", () => {
    expect(parseOptions(["--nope", "--help"], {}).kind).toBe("help");
    expect(parseOptions(["-h"], {}).kind).toBe("help");
  });
});
