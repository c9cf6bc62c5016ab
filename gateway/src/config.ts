// zod/mini: the same validator as `zod` with a tree-shakable API: ~13 KB bundled instead of ~730 KB, which
// took ~25 ms of every cold start (bench/RESULTS.md).
import * as z from "zod/mini";
import {
  entriesWhere,
  parseRoutes,
  providersIn,
  reachesNoAlphanumeric,
  ROUTED_PROVIDERS,
  singleRoute,
  type RoutingTable,
} from "./delivery/routes.ts";
import { isAlphanumericSender, NO_ALPHANUMERIC_SENDER, senderKind } from "./delivery/senderRules.ts";
import { trimmedOrUndefined } from "./envValue.ts";
import { parseProtectionSettings, type ProtectionSettings } from "./protection/settings.ts";
import type { ProviderName } from "./providers/provider.ts";
import { RECEIPTS_PREFIX } from "./receipts/receipt.ts";
import { receiptSettings, type ReceiptSettings } from "./receipts/settings.ts";
import { telnyxPublicKeyProblem } from "./receipts/telnyx.ts";

/**
 * The gateway's whole configuration, parsed once from the environment at startup (see main.ts).
 * Error messages name variables and what is wrong with them, never their values.
 */

export type { ProviderName };
const PROVIDER_NAMES = [...ROUTED_PROVIDERS, "log"] as const satisfies readonly ProviderName[];

export interface TwilioConfig {
  accountSid: string;
  /** Auth token, or an API key pair (preferred: revocable without rotating the account's token). */
  auth: { kind: "authToken"; authToken: string } | { kind: "apiKey"; keySid: string; keySecret: string };
  sender: { kind: "from"; from: string } | { kind: "messagingService"; messagingServiceSid: string };
  /** Use Mosaic's alphanumeric sender_id as the sender where the destination allows it. */
  useSenderId: boolean;
  /** Where the SDK sends requests; default https://api.twilio.com. */
  apiBaseUrl: string;
}

/** Salesforce Marketing Cloud MobileConnect: the settings Mosaic's own SMC integration takes (PROVIDERS.md). */
export interface SmcConfig {
  subdomain: string;
  clientId: string;
  clientSecret: string;
  /** The encoded id of the MobileConnect message whose text the OTP overrides. */
  messageId: string;
  /** `enhanced` (default; `/v2/token`) or `legacy` (`/v1/requestToken`, end of support at Salesforce). */
  packageType: "enhanced" | "legacy";
  /** The business unit's MID, sent as the token's `account_id` (enhanced only). */
  accountId: string | undefined;
  /** When set, sends subscribe (and resubscribe) the number to this keyword. */
  keyword: string | undefined;
  /** Default `https://{subdomain}.auth.marketingcloudapis.com`. */
  authBaseUrl: string;
  /** Override; default the token's `rest_instance_url`, else `https://{subdomain}.rest.marketingcloudapis.com`. */
  restBaseUrl: string | undefined;
}

/** Telnyx messaging over plain HTTP (developers.telnyx.com, messaging "send-message"). */
export interface TelnyxConfig {
  apiKey: string;
  /** The default sender: an E.164 number, a short code or an alphanumeric id. */
  fromNumber: string | undefined;
  /** A messaging profile (number pool, alphanumeric senders); sent with every message when set. */
  messagingProfileId: string | undefined;
  /** Default https://api.telnyx.com. */
  apiBaseUrl: string;
}

export interface GatewayConfig {
  port: number;
  /** Listen address: all interfaces on Cloud Run, loopback in the sandbox and tests. */
  host: string;
  /** Path serving both the GET challenge and the POST send. */
  path: string;
  /** Several keys are accepted at once during a rotation. */
  apiKeys: string[];
  /** Every POST is answered within this budget (Mosaic gives up at about 3 s). */
  sendTimeoutMs: number;
  /** Expected concurrent requests per instance; sizes the provider connection pool. */
  concurrency: number;
  /** SMS_PROVIDER: the single route's provider when SMS_ROUTES is not set. */
  provider: ProviderName;
  /** SMS_ROUTES, or one "*" route with SMS_PROVIDER. */
  routes: RoutingTable;
  /** FAILOVER_ON_UNKNOWN: try the next provider even when the last one may have sent (a possible duplicate). */
  failoverOnUnknown: boolean;
  /** The settings of each provider the routes use; undefined for the others. */
  twilio: TwilioConfig | undefined;
  smc: SmcConfig | undefined;
  telnyx: TelnyxConfig | undefined;
  /** Set on Cloud Run: enables the trace field of log lines. */
  projectId: string | undefined;
  /** Duplicate suppression, abuse limits and where their state lives (protection/settings.ts, issue 11). */
  protection: ProtectionSettings;
  /**
   * PUBLIC_BASE_URL: the gateway's origin as providers call it (the Cloud Run service URL or the load balancer's
   * domain), without a trailing slash. Delivery receipts need it: providers are given `{origin}/receipts/…`, and
   * Twilio signs that URL, not the one the container sees. Undefined: no StatusCallback, no Telnyx webhook_url.
   */
  publicBaseUrl: string | undefined;
  /** OTP_VALIDITY_S: how long an OTP is worth delivering; Twilio drops a message still queued after it. */
  otpValiditySeconds: number;
  /** TELNYX_PUBLIC_KEY: the base64 Ed25519 key that verifies Telnyx's webhooks; Telnyx receipts are off without it. */
  telnyxPublicKey: string | undefined;
  /** Which providers' receipts are on, decided here from the three settings above (receipts/settings.ts). */
  receipts: ReceiptSettings;
}

export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  }
}

const optional = z.pipe(
  z.optional(z.string()),
  z.transform(trimmedOrUndefined),
);

const integer = (name: string, min: number, max: number, fallback: number, why?: string) => {
  const message = `${name} must be a whole number from ${min} to ${max}${why ? ` (${why})` : ""}`;
  return z.pipe(
    optional,
    z.pipe(
      z.optional(
        z.pipe(z.string().check(z.regex(/^\d+$/, message)), z.transform(Number)).check(
          z.refine((n: number) => n >= min && n <= max, message),
        ),
      ),
      z.transform((n: number | undefined) => n ?? fallback),
    ),
  );
};

const boolean = (name: string) =>
  z.pipe(
    optional,
    z.pipe(
      z.optional(z.enum(["true", "false", "1", "0"], { error: `${name} must be true or false` })),
      z.transform((v: "true" | "false" | "1" | "0" | undefined) => v === "true" || v === "1"),
    ),
  );

const sid = (prefix: string) => new RegExp(`^${prefix}[0-9a-fA-F]{32}$`);
// A sender number in E.164, or a short code.
const SENDER_NUMBER = /^(\+[1-9]\d{6,14}|\d{3,8})$/;
const KEY_ALPHABET = /^[\x21-\x2b\x2d-\x7e]+$/; // printable ASCII minus comma (the list separator)
export const MIN_API_KEY_LENGTH = 16;

/**
 * How long SIGTERM waits for in-flight requests. Cloud Run sends SIGKILL 10 s after SIGTERM
 * (https://cloud.google.com/run/docs/container-contract#instance-shutdown); 8 s leaves 2 s to flush logs and
 * exit. SEND_TIMEOUT_MS may not exceed it: a send cut off by the drain would go out with nobody told (issue 8).
 */
export const DRAIN_TIMEOUT_MS = 8000;
/**
 * Where probes ask whether the gateway is up. `/health` is the one to use: Cloud Run reserves URL paths ending in
 * `z`, so an external request to `/healthz` gets Google's own 404 (https://cloud.google.com/run/docs/known-issues);
 * `/healthz` stays as an alias for probes already configured with it. GATEWAY_PATH may be neither.
 */
export const HEALTH_PATHS = ["/health", "/healthz"] as const;
/** Below this no provider attempt has time to finish: every send would be refused as out of time. */
const MIN_SEND_TIMEOUT_MS = 500;
/**
 * OTP_VALIDITY_S's default and bounds: Twilio's ValidityPeriod accepts 1–36000 s (twilio_api_v2010.json, Messages
 * create, `ValidityPeriod`). 600 s is a common OTP lifetime; an OTP that arrives after it expired is worse than none.
 */
export const DEFAULT_OTP_VALIDITY_S = 600;
const MAX_OTP_VALIDITY_S = 36_000;

/** SEND_TIMEOUT_MS's default: Mosaic gives up at about 3 s. */
export const DEFAULT_SEND_TIMEOUT_MS = 2500;
/** CONCURRENCY's default: Cloud Run's default requests per instance. */
export const DEFAULT_CONCURRENCY = 80;

const EnvSchema = z.object({
  PORT: integer("PORT", 0, 65535, 8080),
  HOST: z.pipe(
    optional,
    z.pipe(
      z.optional(
        z.string().check(z.regex(/^[0-9A-Za-z.:-]+$/, "HOST must be an IP address or host name, e.g. 0.0.0.0 or 127.0.0.1")),
      ),
      z.transform((v: string | undefined) => v ?? "0.0.0.0"),
    ),
  ),
  GATEWAY_PATH: z.pipe(
    optional,
    z.pipe(
      z.optional(
        z.string().check(
          z.regex(/^\/[A-Za-z0-9._~\-/]*$/, "GATEWAY_PATH must start with / and use URL path characters only"),
          z.refine(
            (path: string) => !isReceiptPath(path),
            `GATEWAY_PATH must not be under ${RECEIPTS_PREFIX}/: the delivery receipt endpoints live there`,
          ),
        ),
      ),
      z.transform((v: string | undefined) => v ?? "/send-sms"),
    ),
  ),
  SEND_TIMEOUT_MS: integer(
    "SEND_TIMEOUT_MS",
    MIN_SEND_TIMEOUT_MS,
    DRAIN_TIMEOUT_MS,
    DEFAULT_SEND_TIMEOUT_MS,
    `a send accepted just before SIGTERM must be answered inside the ${DRAIN_TIMEOUT_MS / 1000} s drain`,
  ),
  CONCURRENCY: integer("CONCURRENCY", 1, 1000, DEFAULT_CONCURRENCY),
  PUBLIC_BASE_URL: optional,
  OTP_VALIDITY_S: integer("OTP_VALIDITY_S", 1, MAX_OTP_VALIDITY_S, DEFAULT_OTP_VALIDITY_S, "Twilio's ValidityPeriod range"),
  SMS_PROVIDER: z.pipe(
    optional,
    z.pipe(
      z.optional(z.enum(PROVIDER_NAMES, { error: "SMS_PROVIDER must be twilio, smc, telnyx or log" })),
      z.transform((v: ProviderName | undefined): ProviderName => v ?? "twilio"),
    ),
  ),
  GOOGLE_CLOUD_PROJECT: optional,
  TWILIO_ACCOUNT_SID: optional,
  TWILIO_AUTH_TOKEN: optional,
  TWILIO_API_KEY_SID: optional,
  TWILIO_API_KEY_SECRET: optional,
  TWILIO_FROM_NUMBER: optional,
  TWILIO_MESSAGING_SERVICE_SID: optional,
  TWILIO_USE_SENDER_ID: boolean("TWILIO_USE_SENDER_ID"),
  TWILIO_API_BASE_URL: optional,
  SMS_ROUTES: optional,
  FAILOVER_ON_UNKNOWN: boolean("FAILOVER_ON_UNKNOWN"),
  SMC_SUBDOMAIN: optional,
  SMC_CLIENT_ID: optional,
  SMC_CLIENT_SECRET: optional,
  SMC_MESSAGE_ID: optional,
  SMC_PACKAGE_TYPE: optional,
  SMC_ACCOUNT_ID: optional,
  SMC_KEYWORD: optional,
  SMC_AUTH_BASE_URL: optional,
  SMC_REST_BASE_URL: optional,
  TELNYX_API_KEY: optional,
  TELNYX_FROM_NUMBER: optional,
  TELNYX_MESSAGING_PROFILE_ID: optional,
  TELNYX_PUBLIC_KEY: optional,
  TELNYX_API_BASE_URL: optional,
});

type Env = z.infer<typeof EnvSchema>;

function parseApiKeys(raw: string | undefined, problems: string[]): string[] {
  if (raw === undefined) {
    problems.push("GATEWAY_API_KEY is required (one key, or several separated by commas during a rotation)");
    return [];
  }
  const keys = raw.split(",").map((k) => k.trim()).filter((k) => k !== "");
  if (keys.length === 0) problems.push("GATEWAY_API_KEY holds no key");
  keys.forEach((key, i) => {
    if (key.length < MIN_API_KEY_LENGTH || !KEY_ALPHABET.test(key)) {
      problems.push(
        `GATEWAY_API_KEY key #${i + 1} must be at least ${MIN_API_KEY_LENGTH} printable ASCII characters without spaces`,
      );
    }
  });
  return keys;
}

/** Loopback hosts, where plain http stays on the machine: the emulators, the sandbox, a local proxy. */
function isLoopbackHost(hostname: string): boolean {
  return hostname === "localhost" || hostname === "[::1]" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

/**
 * What is wrong with a URL that credentials will be sent to (a provider's base URL, Mosaic's API, the gateway's
 * URI), or undefined when nothing is: https, or http only to a loopback host, and no user:password in the URL
 * (a secret in clear, or in every log line that prints the URL). The answer never repeats the URL: it may hold one.
 * Shared by every provider's base URL and the registration CLI (scripts/register/options.ts).
 */
export function secretSafeUrlProblem(raw: string): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "is not a URL";
  }
  if (url.protocol !== "https:" && !(url.protocol === "http:" && isLoopbackHost(url.hostname))) {
    return "must be an https URL (http is accepted only on loopback)";
  }
  if (url.username || url.password) return "must not carry credentials";
  return undefined;
}

/**
 * PUBLIC_BASE_URL: an origin (scheme, host, port) that providers can reach. https, or http on loopback only (the
 * sandbox and tests): secretSafeUrlProblem's rule, since a callback URL that leaks into plain http could be
 * rewritten on the way. A path is refused rather than kept: the receipt paths are appended to the origin, and a
 * prefix the container never sees would make every Twilio signature check fail.
 */
function parsePublicBaseUrl(raw: string | undefined, problems: string[]): string | undefined {
  if (raw === undefined) return undefined;
  const problem = secretSafeUrlProblem(raw);
  if (problem !== undefined) {
    problems.push(`PUBLIC_BASE_URL ${problem}`);
    return undefined;
  }
  const url = new URL(raw);
  if (url.pathname !== "/" || url.search !== "" || url.hash !== "" || /[?#]/.test(raw)) {
    problems.push("PUBLIC_BASE_URL must be an origin only, e.g. https://sms.example.com (no path, query or fragment)");
    return undefined;
  }
  return url.origin;
}

/** Express matches paths case-insensitively: so does this check. */
function isReceiptPath(path: string): boolean {
  const normal = path.toLowerCase().replace(/\/+$/, "");
  return normal === RECEIPTS_PREFIX || normal.startsWith(`${RECEIPTS_PREFIX}/`);
}

function parseBaseUrl(name: string, raw: string | undefined, fallback: string, problems: string[]): string {
  if (raw === undefined) return fallback;
  const problem = secretSafeUrlProblem(raw);
  if (problem === undefined) return raw.replace(/\/+$/, "");
  problems.push(`${name} ${problem}`);
  return "";
}

function parseTwilio(env: Env, problems: string[]): TwilioConfig | undefined {
  const before = problems.length;
  const accountSid = env.TWILIO_ACCOUNT_SID;
  if (accountSid === undefined) problems.push("TWILIO_ACCOUNT_SID is required");
  else if (!sid("AC").test(accountSid)) problems.push("TWILIO_ACCOUNT_SID must be AC followed by 32 hex characters");

  let auth: TwilioConfig["auth"] | undefined;
  const hasToken = env.TWILIO_AUTH_TOKEN !== undefined;
  const hasKey = env.TWILIO_API_KEY_SID !== undefined || env.TWILIO_API_KEY_SECRET !== undefined;
  if (hasToken && hasKey) {
    problems.push("set TWILIO_AUTH_TOKEN or TWILIO_API_KEY_SID + TWILIO_API_KEY_SECRET, not both");
  } else if (hasToken) {
    auth = { kind: "authToken", authToken: env.TWILIO_AUTH_TOKEN! };
  } else if (hasKey) {
    if (env.TWILIO_API_KEY_SID === undefined) problems.push("TWILIO_API_KEY_SID is required with TWILIO_API_KEY_SECRET");
    else if (!sid("SK").test(env.TWILIO_API_KEY_SID)) {
      problems.push("TWILIO_API_KEY_SID must be SK followed by 32 hex characters");
    }
    if (env.TWILIO_API_KEY_SECRET === undefined) problems.push("TWILIO_API_KEY_SECRET is required with TWILIO_API_KEY_SID");
    if (env.TWILIO_API_KEY_SID && env.TWILIO_API_KEY_SECRET) {
      auth = { kind: "apiKey", keySid: env.TWILIO_API_KEY_SID, keySecret: env.TWILIO_API_KEY_SECRET };
    }
  } else {
    problems.push("TWILIO_AUTH_TOKEN (or TWILIO_API_KEY_SID + TWILIO_API_KEY_SECRET) is required");
  }

  let sender: TwilioConfig["sender"] | undefined;
  const from = env.TWILIO_FROM_NUMBER;
  const service = env.TWILIO_MESSAGING_SERVICE_SID;
  if (from !== undefined && service !== undefined) {
    problems.push("only one of TWILIO_FROM_NUMBER and TWILIO_MESSAGING_SERVICE_SID can be set");
  } else if (from !== undefined) {
    if (SENDER_NUMBER.test(from)) sender = { kind: "from", from };
    else problems.push("TWILIO_FROM_NUMBER must be an E.164 number (+14155550100) or a short code");
  } else if (service !== undefined) {
    if (sid("MG").test(service)) sender = { kind: "messagingService", messagingServiceSid: service };
    else problems.push("TWILIO_MESSAGING_SERVICE_SID must be MG followed by 32 hex characters");
  } else {
    problems.push("one of TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID is required");
  }

  const apiBaseUrl = parseBaseUrl("TWILIO_API_BASE_URL", env.TWILIO_API_BASE_URL, "https://api.twilio.com", problems);
  if (problems.length > before || !accountSid || !auth || !sender) return undefined;
  return { accountSid, auth, sender, useSenderId: env.TWILIO_USE_SENDER_ID, apiBaseUrl };
}

/** Printable ASCII without spaces: ids and secrets as consoles issue them. */
const TOKEN = /^[\x21-\x7e]+$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function required(name: string, value: string | undefined, problems: string[], shape?: [RegExp, string]): string | undefined {
  if (value === undefined) problems.push(`${name} is required`);
  else if (shape && !shape[0].test(value)) problems.push(`${name} must be ${shape[1]}`);
  else return value;
  return undefined;
}

function parseSmc(env: Env, problems: string[]): SmcConfig | undefined {
  const before = problems.length;
  const subdomain = required("SMC_SUBDOMAIN", env.SMC_SUBDOMAIN, problems, [
    /^[A-Za-z0-9][A-Za-z0-9-]{0,62}$/,
    "the tenant subdomain of the package's endpoints (letters, digits, hyphens)",
  ]);
  const clientId = required("SMC_CLIENT_ID", env.SMC_CLIENT_ID, problems, [TOKEN, "printable characters without spaces"]);
  const clientSecret = required("SMC_CLIENT_SECRET", env.SMC_CLIENT_SECRET, problems, [TOKEN, "printable characters without spaces"]);
  const messageId = required("SMC_MESSAGE_ID", env.SMC_MESSAGE_ID, problems, [
    /^[A-Za-z0-9_=-]{1,100}$/,
    "the MobileConnect message's encoded id (e.g. MzA6Nzg6MA)",
  ]);
  const packageType = env.SMC_PACKAGE_TYPE ?? "enhanced";
  if (packageType !== "enhanced" && packageType !== "legacy") problems.push("SMC_PACKAGE_TYPE must be enhanced or legacy");
  const accountId = env.SMC_ACCOUNT_ID;
  if (accountId !== undefined && !/^\d{1,12}$/.test(accountId)) problems.push("SMC_ACCOUNT_ID must be the business unit's MID (digits)");
  if (accountId !== undefined && packageType === "legacy") problems.push("SMC_ACCOUNT_ID applies to enhanced packages only");
  const keyword = env.SMC_KEYWORD;
  if (keyword !== undefined && !/^[A-Za-z0-9_-]{1,50}$/.test(keyword)) {
    problems.push("SMC_KEYWORD must be a MobileConnect keyword (letters, digits, _ or -)");
  }
  const authBaseUrl = parseBaseUrl(
    "SMC_AUTH_BASE_URL",
    env.SMC_AUTH_BASE_URL,
    `https://${subdomain ?? "invalid"}.auth.marketingcloudapis.com`,
    problems,
  );
  const restBaseUrl = env.SMC_REST_BASE_URL === undefined ? undefined : parseBaseUrl("SMC_REST_BASE_URL", env.SMC_REST_BASE_URL, "", problems);
  if (problems.length > before || !subdomain || !clientId || !clientSecret || !messageId) return undefined;
  return {
    subdomain,
    clientId,
    clientSecret,
    messageId,
    packageType: packageType as SmcConfig["packageType"],
    accountId,
    keyword,
    authBaseUrl,
    restBaseUrl,
  };
}

function parseTelnyx(env: Env, problems: string[]): TelnyxConfig | undefined {
  const before = problems.length;
  const apiKey = required("TELNYX_API_KEY", env.TELNYX_API_KEY, problems, [TOKEN, "printable characters without spaces"]);
  const fromNumber = env.TELNYX_FROM_NUMBER;
  const profile = env.TELNYX_MESSAGING_PROFILE_ID;
  const kind = fromNumber === undefined ? undefined : senderKind(fromNumber);
  if (fromNumber !== undefined && (kind === undefined || kind === "messaging_service")) {
    problems.push("TELNYX_FROM_NUMBER must be an E.164 number, a short code or an alphanumeric sender (1-11 letters, digits, spaces)");
  } else if (kind === "alphanumeric" && profile === undefined) {
    problems.push("TELNYX_FROM_NUMBER is an alphanumeric sender: Telnyx requires TELNYX_MESSAGING_PROFILE_ID with it");
  }
  if (profile !== undefined && !UUID.test(profile)) problems.push("TELNYX_MESSAGING_PROFILE_ID must be a messaging profile id (a UUID)");
  if (fromNumber === undefined && profile === undefined) {
    problems.push("one of TELNYX_FROM_NUMBER or TELNYX_MESSAGING_PROFILE_ID is required");
  }
  const apiBaseUrl = parseBaseUrl("TELNYX_API_BASE_URL", env.TELNYX_API_BASE_URL, "https://api.telnyx.com", problems);
  if (problems.length > before || !apiKey) return undefined;
  return { apiKey, fromNumber, messagingProfileId: profile, apiBaseUrl };
}

type ProviderSettings = Pick<GatewayConfig, "twilio" | "smc" | "telnyx">;

/** Routes that the settings cannot serve: alphanumeric senders Telnyx cannot use, or that reach US/CA/PR. */
function crossCheck(routes: RoutingTable, settings: ProviderSettings, problems: string[]): void {
  const telnyx = settings.telnyx;
  if (!telnyx) return;
  const alphanumeric = entriesWhere(
    routes,
    (e) => e.provider === "telnyx" && (e.useSenderId || (e.from !== undefined && isAlphanumericSender(e.from))),
  );
  if (alphanumeric.length > 0 && telnyx.messagingProfileId === undefined) {
    problems.push(`${alphanumeric.join(", ")}: an alphanumeric sender on telnyx needs TELNYX_MESSAGING_PROFILE_ID`);
  }
  if (telnyx.fromNumber !== undefined && isAlphanumericSender(telnyx.fromNumber)) {
    const reach = entriesWhere(
      routes,
      (e, key) => e.provider === "telnyx" && e.from === undefined && reachesNoAlphanumeric(key, (c) => routes.byCountry.has(c)),
    );
    if (reach.length > 0) {
      problems.push(
        `${reach.join(", ")}: TELNYX_FROM_NUMBER is alphanumeric and ${[...NO_ALPHANUMERIC_SENDER].join(", ")} refuse alphanumeric senders (give these entries a "from")`,
      );
    }
  }
}

/** Express matches paths case-insensitively and ignores a trailing slash: so does this check. */
function collidesWithHealth(path: string): boolean {
  const normal = path.toLowerCase().replace(/\/+$/, "");
  return HEALTH_PATHS.some((health) => normal === health);
}

/** Parses the environment into a GatewayConfig, or throws one ConfigError naming every problem at once. */
export function parseConfig(env: Record<string, string | undefined>): GatewayConfig {
  const result = EnvSchema.safeParse(env);
  const problems: string[] = [];
  // Issue messages come from the schema above and name the variable; zod does not echo the input.
  if (!result.success) for (const issue of result.error.issues) problems.push(issue.message);

  const provider = result.success ? result.data.SMS_PROVIDER : trimmedOrUndefined(env.SMS_PROVIDER) ?? "twilio";
  const apiKeys = parseApiKeys(trimmedOrUndefined(env.GATEWAY_API_KEY), problems);
  if (collidesWithHealth(trimmedOrUndefined(env.GATEWAY_PATH) ?? "")) {
    problems.push(`GATEWAY_PATH must not be a health path (${HEALTH_PATHS.join(", ")}): the probes would answer Mosaic's challenge`);
  }
  // The provider checks run on the raw strings too, so one start reports every problem, not the first batch.
  const e0 = result.success
    ? result.data
    : ({ ...Object.fromEntries(Object.keys(EnvSchema.shape).map((k) => [k, trimmedOrUndefined(env[k])])),
        TWILIO_USE_SENDER_ID: false, FAILOVER_ON_UNKNOWN: false } as unknown as Env);

  // SMS_ROUTES, when set, names the providers; otherwise SMS_PROVIDER serves every country.
  let routes: RoutingTable | undefined;
  let used: Set<ProviderName>;
  if (e0.SMS_ROUTES !== undefined) {
    const parsed = parseRoutes(e0.SMS_ROUTES, { defaultUseSenderId: (p) => p === "twilio" && e0.TWILIO_USE_SENDER_ID });
    if (parsed.ok) {
      routes = parsed.table;
      used = providersIn(parsed.table);
    } else {
      problems.push(...parsed.problems);
      used = parsed.providers;
    }
  } else {
    const single = (PROVIDER_NAMES as readonly string[]).includes(provider) ? (provider as ProviderName) : "twilio";
    routes = singleRoute(single, single === "twilio" && e0.TWILIO_USE_SENDER_ID);
    used = new Set([single]);
  }
  const viaRoutes = (name: ProviderName) => (p: string) => (e0.SMS_ROUTES === undefined ? p : `${p} (SMS_ROUTES uses ${name})`);
  const settingsFor = <T>(name: ProviderName, parse: (env: Env, problems: string[]) => T | undefined): T | undefined => {
    if (!used.has(name)) return undefined;
    const own: string[] = [];
    const settings = parse(e0, own);
    problems.push(...own.map(viaRoutes(name)));
    return settings;
  };
  const settings: ProviderSettings = {
    twilio: settingsFor("twilio", parseTwilio),
    smc: settingsFor("smc", parseSmc),
    telnyx: settingsFor("telnyx", parseTelnyx),
  };
  if (routes) crossCheck(routes, settings, problems);
  const protection = parseProtectionSettings(env, problems);
  const publicBaseUrl = parsePublicBaseUrl(e0.PUBLIC_BASE_URL, problems);
  const keyProblem = e0.TELNYX_PUBLIC_KEY === undefined ? undefined : telnyxPublicKeyProblem(e0.TELNYX_PUBLIC_KEY);
  if (keyProblem !== undefined) problems.push(keyProblem);
  if (!result.success || problems.length > 0) throw new ConfigError(problems);
  const e = result.data;
  return {
    port: e.PORT,
    host: e.HOST,
    path: e.GATEWAY_PATH,
    apiKeys,
    sendTimeoutMs: e.SEND_TIMEOUT_MS,
    concurrency: e.CONCURRENCY,
    provider: e.SMS_PROVIDER,
    routes: routes!,
    failoverOnUnknown: e.FAILOVER_ON_UNKNOWN,
    ...settings,
    projectId: e.GOOGLE_CLOUD_PROJECT,
    protection,
    publicBaseUrl,
    otpValiditySeconds: e.OTP_VALIDITY_S,
    telnyxPublicKey: e.TELNYX_PUBLIC_KEY,
    receipts: receiptSettings({ publicBaseUrl, twilio: settings.twilio, telnyxPublicKey: e.TELNYX_PUBLIC_KEY }),
  };
}
