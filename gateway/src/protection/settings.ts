import { trimmedOrUndefined } from "../envValue.ts";
import { isSupportedCountry } from "../phone.ts";

/**
 * The protection settings (issue 11), parsed from raw strings into a typed object. Pure: config.ts, the one
 * reader of the environment, hands the raw values in and adds the problems to its own list. Every problem names
 * the variable and never repeats its value (REDIS_URL may hold a password).
 */

/** At most `points` sends per `durationS` seconds (a fixed window, as rate-limiter-flexible counts). */
export interface Limit {
  points: number;
  durationS: number;
}

export type OnUnknownRepeat = "send" | "suppress";

export interface DedupeSettings {
  /** DEDUPE_WINDOW_S in ms; 0 turns duplicate suppression off. Default 60 s. */
  windowMs: number;
  /** ON_UNKNOWN_REPEAT: what a repeat of an "unknown" send does when the provider cannot tell. Default send. */
  onUnknownRepeat: OnUnknownRepeat;
}

export interface LimitSettings {
  /** RATE_LIMIT_PER_NUMBER, default 5/10m. */
  perNumber: Limit | undefined;
  /** RATE_LIMIT_PER_PREFIX (the number without its last 3 digits), default 30/10m. */
  perPrefix: Limit | undefined;
  /** RATE_LIMIT_PER_COUNTRY, default off. */
  perCountry: Limit | undefined;
  /** RATE_LIMIT_GLOBAL, default off. */
  global: Limit | undefined;
  /** ALLOWED_COUNTRIES as ISO 3166-1 alpha-2 codes; undefined = every country. */
  allowedCountries: ReadonlySet<string> | undefined;
}

export type StoreSettings =
  | { kind: "memory" }
  | {
      kind: "redis";
      /** redis:// or rediss:// (TLS); may carry a password, so never log it. */
      url: string;
      /** REDIS_PASSWORD, when the URL holds none (Memorystore's AUTH string from Secret Manager). */
      password: string | undefined;
      /** REDIS_CA_CERT: PEM, one or more certificates (Memorystore hands out two during a CA rotation). */
      ca: string | undefined;
    };

export interface ProtectionSettings {
  dedupe: DedupeSettings;
  limits: LimitSettings;
  store: StoreSettings;
  /**
   * PROTECTION_SECRET: keys the HMAC that turns numbers and texts into store keys. Required with Redis (every
   * instance must derive the same keys); without it the in-memory store uses a random one per process.
   */
  secret: string | undefined;
}

/** The raw variables these settings come from; config.ts passes its environment record. */
export const PROTECTION_VARIABLES = [
  "DEDUPE_WINDOW_S",
  "ON_UNKNOWN_REPEAT",
  "RATE_LIMIT_PER_NUMBER",
  "RATE_LIMIT_PER_PREFIX",
  "RATE_LIMIT_PER_COUNTRY",
  "RATE_LIMIT_GLOBAL",
  "ALLOWED_COUNTRIES",
  "REDIS_URL",
  "REDIS_PASSWORD",
  "REDIS_CA_CERT",
  "PROTECTION_SECRET",
] as const;

export type ProtectionEnv = Partial<Record<(typeof PROTECTION_VARIABLES)[number], string | undefined>>;

export const DEFAULT_DEDUPE_WINDOW_S = 60;
/** A day: longer windows keep OTP records well past any OTP's life. */
export const MAX_DEDUPE_WINDOW_S = 86_400;
export const DEFAULT_PER_NUMBER: Limit = { points: 5, durationS: 600 };
export const DEFAULT_PER_PREFIX: Limit = { points: 30, durationS: 600 };
/** A day per window, a million per window: beyond either a limit is no longer a limit worth a counter. */
const MAX_LIMIT_DURATION_S = 86_400;
const MAX_LIMIT_POINTS = 1_000_000;
export const MIN_SECRET_LENGTH = 32;

const UNIT_S = { s: 1, m: 60, h: 3600 } as const;
const LIMIT_SHAPE = /^(\d+)\s*\/\s*(\d+)\s*([smh])$/;

/**
 * `N/<duration>` with s, m or h (`5/10m`), or `off`. Returns undefined for off, the fallback when unset, and
 * pushes a problem naming `name` when malformed.
 */
export function parseLimit(name: string, raw: string | undefined, fallback: Limit | undefined, problems: string[]): Limit | undefined {
  const value = trimmedOrUndefined(raw);
  if (value === undefined) return fallback;
  if (value.toLowerCase() === "off") return undefined;
  const match = LIMIT_SHAPE.exec(value);
  const points = match ? Number(match[1]) : NaN;
  const durationS = match ? Number(match[2]) * UNIT_S[match[3] as keyof typeof UNIT_S] : NaN;
  if (!(points >= 1 && points <= MAX_LIMIT_POINTS && durationS >= 1 && durationS <= MAX_LIMIT_DURATION_S)) {
    problems.push(
      `${name} must be N/<duration> with s, m or h (e.g. 5/10m), N from 1 to ${MAX_LIMIT_POINTS} and a duration ` +
        `from 1s to 24h, or off`,
    );
    return fallback;
  }
  return { points, durationS };
}

function parseWindow(raw: string | undefined, problems: string[]): number {
  const value = trimmedOrUndefined(raw);
  if (value === undefined) return DEFAULT_DEDUPE_WINDOW_S * 1000;
  if (/^\d+$/.test(value) && Number(value) <= MAX_DEDUPE_WINDOW_S) return Number(value) * 1000;
  problems.push(`DEDUPE_WINDOW_S must be a whole number of seconds from 0 (off) to ${MAX_DEDUPE_WINDOW_S}`);
  return DEFAULT_DEDUPE_WINDOW_S * 1000;
}

function parseOnUnknownRepeat(raw: string | undefined, problems: string[]): OnUnknownRepeat {
  const value = trimmedOrUndefined(raw)?.toLowerCase();
  if (value === undefined || value === "send") return "send";
  if (value === "suppress") return "suppress";
  problems.push("ON_UNKNOWN_REPEAT must be send or suppress");
  return "send";
}

function parseCountries(raw: string | undefined, problems: string[]): ReadonlySet<string> | undefined {
  const value = trimmedOrUndefined(raw);
  if (value === undefined) return undefined;
  const codes = value.split(",").map((c) => c.trim().toUpperCase()).filter((c) => c !== "");
  const bad = codes.flatMap((code, i) => (/^[A-Z]{2}$/.test(code) && isSupportedCountry(code) ? [] : [i + 1]));
  if (codes.length === 0) problems.push("ALLOWED_COUNTRIES holds no country code (leave it empty to allow all)");
  if (bad.length > 0) {
    problems.push(`ALLOWED_COUNTRIES entries #${bad.join(", #")} are not ISO 3166-1 alpha-2 codes of countries with phone numbers (e.g. US,GB,DE)`);
  }
  return new Set(codes);
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/;

function parseStore(env: ProtectionEnv, problems: string[]): StoreSettings {
  const url = trimmedOrUndefined(env.REDIS_URL);
  const password = trimmedOrUndefined(env.REDIS_PASSWORD);
  const ca = trimmedOrUndefined(env.REDIS_CA_CERT);
  if (url === undefined) {
    if (password !== undefined) problems.push("REDIS_PASSWORD is set but REDIS_URL is not");
    if (ca !== undefined) problems.push("REDIS_CA_CERT is set but REDIS_URL is not");
    return { kind: "memory" };
  }
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    // reported below
  }
  if (!parsed || (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:") || parsed.hostname === "") {
    problems.push("REDIS_URL must be redis://[:password@]host[:port][/db] or rediss://… for TLS");
    return { kind: "memory" };
  }
  if (parsed.password !== "" && password !== undefined) {
    problems.push("set the Redis password in REDIS_URL or in REDIS_PASSWORD, not both");
  }
  if (ca !== undefined) {
    if (parsed.protocol !== "rediss:") problems.push("REDIS_CA_CERT needs a rediss:// REDIS_URL (TLS)");
    if (!PEM_CERT.test(ca)) problems.push("REDIS_CA_CERT must be PEM text (-----BEGIN CERTIFICATE----- …)");
  }
  return { kind: "redis", url, password, ca };
}

/** Every protection setting, with its default; `problems` receives one line per malformed variable. */
export function parseProtectionSettings(env: ProtectionEnv, problems: string[]): ProtectionSettings {
  const store = parseStore(env, problems);
  const secret = trimmedOrUndefined(env.PROTECTION_SECRET);
  if (secret !== undefined && secret.length < MIN_SECRET_LENGTH) {
    problems.push(`PROTECTION_SECRET must be at least ${MIN_SECRET_LENGTH} characters`);
  } else if (secret === undefined && store.kind === "redis") {
    problems.push(
      `PROTECTION_SECRET is required with REDIS_URL (at least ${MIN_SECRET_LENGTH} characters, the same on every instance)`,
    );
  }
  return {
    dedupe: {
      windowMs: parseWindow(env.DEDUPE_WINDOW_S, problems),
      onUnknownRepeat: parseOnUnknownRepeat(env.ON_UNKNOWN_REPEAT, problems),
    },
    limits: {
      perNumber: parseLimit("RATE_LIMIT_PER_NUMBER", env.RATE_LIMIT_PER_NUMBER, DEFAULT_PER_NUMBER, problems),
      perPrefix: parseLimit("RATE_LIMIT_PER_PREFIX", env.RATE_LIMIT_PER_PREFIX, DEFAULT_PER_PREFIX, problems),
      perCountry: parseLimit("RATE_LIMIT_PER_COUNTRY", env.RATE_LIMIT_PER_COUNTRY, undefined, problems),
      global: parseLimit("RATE_LIMIT_GLOBAL", env.RATE_LIMIT_GLOBAL, undefined, problems),
      allowedCountries: parseCountries(env.ALLOWED_COUNTRIES, problems),
    },
    store,
    secret,
  };
}
