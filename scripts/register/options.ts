import { secretSafeUrlProblem } from "../../gateway/src/config.ts";
import { DEFAULT_REGION, REGIONS, isRegion } from "./regions.ts";

/** Everything the CLI needs, parsed once from argv and env. Secrets only ever come from env, files or stores. */
export interface Options {
  readonly mode: "register" | "revert";
  readonly baseUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Absent only when it will come from the Pulumi stack (`--from-stack`) or in revert mode. */
  readonly gatewayUri?: string;
  /** From GATEWAY_API_KEY. */
  readonly apiKey?: string;
  /** A Secret Manager version name, `projects/P/secrets/S/versions/V`, from --api-key-secret or GATEWAY_API_KEY_SECRET. */
  readonly apiKeySecret?: string;
  /** Read GATEWAY_URI / the API key from `pulumi stack output`; `stack` undefined means the selected stack. */
  readonly fromStack?: { readonly stack?: string };
  readonly dryRun: boolean;
  readonly json: boolean;
  /** Per-request timeout. Default 10 000 ms. */
  readonly timeoutMs: number;
  /** Retries after the first attempt, for 5xx and network errors only. Default 3. */
  readonly retries: number;
}

export type ParseResult =
  | { readonly kind: "help" }
  | { readonly kind: "ok"; readonly options: Options }
  | { readonly kind: "error"; readonly errors: readonly string[] };

type FlagKind = "boolean" | "string" | "optional-string";

const FLAGS = {
  region: "string",
  "base-url": "string",
  "client-id": "string",
  "gateway-uri": "string",
  "api-key-secret": "string",
  "from-stack": "optional-string",
  revert: "boolean",
  "dry-run": "boolean",
  json: "boolean",
  "timeout-ms": "string",
  retries: "string",
  help: "boolean",
} as const satisfies Record<string, FlagKind>;

type FlagName = keyof typeof FLAGS;
type FlagValues = Partial<Record<FlagName, string | true>>;

export const USAGE = `Usage: npm run register -- [flags]

Registers the gateway as the Mosaic tenant's custom SMS provider (or reverts to Default).

Flags (each overrides its env variable):
  --region us|eu|ca|au|sandbox   Mosaic region (env MOSAIC_REGION; default us)
  --base-url URL                 Mosaic API base URL (env MOSAIC_BASE_URL), instead of --region
  --client-id ID                 Management Application client id (env MOSAIC_CLIENT_ID)
                                 its secret only from env MOSAIC_CLIENT_SECRET
  --gateway-uri URL              the gateway's full send-sms URI (env GATEWAY_URI)
  --api-key-secret NAME          read the API key from Secret Manager, projects/P/secrets/S/versions/V
                                 (env GATEWAY_API_KEY_SECRET); otherwise env GATEWAY_API_KEY
  --from-stack [STACK]           read the gateway URI and API key from \`pulumi stack output\`
  --revert                       set the tenant back to Mosaic's Default SMS provider
  --dry-run                      stop after the preflight challenge; change nothing
  --json                         print one JSON result line and nothing else
  --timeout-ms N                 per-request timeout (default 10000)
  --retries N                    retries for 5xx and network errors (default 3)

Exit codes: 0 done, 2 bad input, 3 Mosaic refused the credentials, 4 preflight failed,
5 Mosaic refused the registration or the handshake, 6 network or timeout after retries.`;

function isFlagName(name: string): name is FlagName {
  return Object.hasOwn(FLAGS, name);
}

/** A name that could be a flag's: printed back in an error. Anything else might be a value typed in its place. */
const FLAG_NAME_SHAPE = /^[a-z][a-z0-9-]{0,29}$/;
/** Flags people try for what the CLI reads from the environment only. */
const SECRET_FLAG = /secret|key|token|password|credential/;

function unknownFlag(name: string, position: number): string {
  if (!FLAG_NAME_SHAPE.test(name)) return `unknown flag at argument ${position} (not printed: it could hold a secret)`;
  if (SECRET_FLAG.test(name)) {
    return `unknown flag --${name}: secrets are read from the environment only (MOSAIC_CLIENT_SECRET, GATEWAY_API_KEY), never from flags`;
  }
  return `unknown flag --${name}`;
}

/**
 * A small argv reader that reports every problem instead of stopping at the first (node:util parseArgs throws).
 * It never prints an argument's value, only flag names (issue 8, item 7): `--client-secret VALUE` once echoed
 * VALUE as an unexpected argument. An unknown flag's value (`--x VALUE`, `--x=VALUE`) is taken as its own and
 * dropped; a stray argument is named by position.
 */
function readFlags(argv: readonly string[], errors: string[]): FlagValues {
  const values: FlagValues = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") continue;
    if (arg === "-h") {
      values.help = true;
      continue;
    }
    if (!arg.startsWith("--")) {
      errors.push(`unexpected argument ${i + 1} (not printed: it could hold a secret)`);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    const inline = eq === -1 ? undefined : arg.slice(eq + 1);
    if (!isFlagName(name)) {
      errors.push(unknownFlag(name, i + 1));
      const next = argv[i + 1];
      if (inline === undefined && next !== undefined && !next.startsWith("--")) i++;
      continue;
    }
    const kind: FlagKind = FLAGS[name];
    if (kind === "boolean") {
      if (inline !== undefined) errors.push(`--${name} takes no value`);
      else values[name] = true;
      continue;
    }
    if (inline !== undefined) {
      values[name] = inline;
      continue;
    }
    const next = argv[i + 1];
    if (next !== undefined && !next.startsWith("--")) {
      values[name] = next;
      i++;
    } else if (kind === "optional-string") {
      values[name] = true;
    } else {
      errors.push(`--${name} needs a value`);
    }
  }
  return values;
}

/** https everywhere; plain http only on loopback (the emulators and the sandbox); no credentials in the URL. */
export function checkUrl(value: string, source: string, errors: string[]): string | undefined {
  const problem = secretSafeUrlProblem(value);
  if (problem === undefined) return value;
  errors.push(`${source} ${problem}`);
  return undefined;
}

const SECRET_VERSION = /^projects\/[^/\s]+\/secrets\/[^/\s]+\/versions\/[^/\s]+$/;

function positiveInt(raw: string | undefined, source: string, fallback: number, min: number, errors: string[]): number {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min) {
    errors.push(`${source} must be an integer >= ${min}`);
    return fallback;
  }
  return Number(raw);
}

type Env = Readonly<Record<string, string | undefined>>;

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value.trim();
}

export function parseOptions(argv: readonly string[], env: Env): ParseResult {
  const errors: string[] = [];
  const flags = readFlags(argv, errors);
  if (flags.help) return { kind: "help" };
  const str = (name: FlagName): string | undefined => {
    const v = flags[name];
    return typeof v === "string" ? nonEmpty(v) : undefined;
  };

  // Base URL: a flag beats env; within one level, a region and a URL together are ambiguous.
  let baseUrl: string | undefined;
  const pickBase = (url: string | undefined, region: string | undefined, urlName: string, regionName: string): boolean => {
    if (url !== undefined && region !== undefined) {
      errors.push(`only one of ${urlName} and ${regionName} can be specified`);
      return true;
    }
    if (url !== undefined) {
      baseUrl = checkUrl(url, urlName, errors)?.replace(/\/+$/, "");
      return true;
    }
    if (region !== undefined) {
      if (isRegion(region)) baseUrl = REGIONS[region];
      else errors.push(`${regionName} must be one of ${Object.keys(REGIONS).join(", ")}`);
      return true;
    }
    return false;
  };
  if (!pickBase(str("base-url"), str("region"), "--base-url", "--region")) {
    if (!pickBase(nonEmpty(env.MOSAIC_BASE_URL), nonEmpty(env.MOSAIC_REGION), "MOSAIC_BASE_URL", "MOSAIC_REGION")) {
      baseUrl = REGIONS[DEFAULT_REGION];
    }
  }

  const clientId = str("client-id") ?? nonEmpty(env.MOSAIC_CLIENT_ID);
  if (clientId === undefined) errors.push("MOSAIC_CLIENT_ID (or --client-id) is required");
  const clientSecret = nonEmpty(env.MOSAIC_CLIENT_SECRET);
  if (clientSecret === undefined) errors.push("MOSAIC_CLIENT_SECRET is required (env only, never a flag)");

  const mode = flags.revert ? "revert" : "register";
  const fromStackFlag = flags["from-stack"];
  const fromStack =
    fromStackFlag === undefined ? undefined : fromStackFlag === true ? {} : { stack: fromStackFlag };

  let gatewayUri: string | undefined;
  let apiKey: string | undefined;
  let apiKeySecret: string | undefined;
  if (mode === "register") {
    const rawUri = str("gateway-uri") ?? nonEmpty(env.GATEWAY_URI);
    if (rawUri !== undefined) {
      const flagged = str("gateway-uri") !== undefined;
      gatewayUri = checkUrl(rawUri, flagged ? "--gateway-uri" : "GATEWAY_URI", errors);
    } else if (fromStack === undefined) {
      errors.push("GATEWAY_URI (or --gateway-uri, or --from-stack) is required");
    }
    apiKey = nonEmpty(env.GATEWAY_API_KEY);
    const secretFlag = str("api-key-secret");
    const secretEnv = nonEmpty(env.GATEWAY_API_KEY_SECRET);
    apiKeySecret = secretFlag ?? secretEnv;
    const secretSource = secretFlag !== undefined ? "--api-key-secret" : "GATEWAY_API_KEY_SECRET";
    if (apiKey !== undefined && apiKeySecret !== undefined) {
      errors.push(`only one of GATEWAY_API_KEY and ${secretSource} can be specified`);
    } else if (apiKeySecret !== undefined && !SECRET_VERSION.test(apiKeySecret)) {
      errors.push(`${secretSource} must look like projects/P/secrets/S/versions/V`);
    } else if (apiKey === undefined && apiKeySecret === undefined && fromStack === undefined) {
      errors.push("GATEWAY_API_KEY (or --api-key-secret, or --from-stack) is required");
    }
  }

  const timeoutMs = positiveInt(str("timeout-ms"), "--timeout-ms", 10_000, 1, errors);
  const retries = positiveInt(str("retries"), "--retries", 3, 0, errors);

  if (errors.length > 0 || baseUrl === undefined || clientId === undefined || clientSecret === undefined) {
    return { kind: "error", errors };
  }
  return {
    kind: "ok",
    options: {
      mode,
      baseUrl,
      clientId,
      clientSecret,
      ...(gatewayUri === undefined ? {} : { gatewayUri }),
      ...(apiKey === undefined ? {} : { apiKey }),
      ...(apiKeySecret === undefined ? {} : { apiKeySecret }),
      ...(fromStack === undefined ? {} : { fromStack }),
      dryRun: flags["dry-run"] === true,
      json: flags.json === true,
      timeoutMs,
      retries,
    },
  };
}
