import { isSupportedCountry } from "../phone.ts";
import type { Destination } from "../phone.ts";
import type { ProviderName } from "../providers/provider.ts";
import { NO_ALPHANUMERIC_SENDER, senderKind } from "./senderRules.ts";

/**
 * SMS_ROUTES: which providers deliver to which destination country, in order. Pure: config.ts hands over the raw
 * text once at startup and gets back the table or every problem in it; the send path only calls `pickRoute`.
 *
 *   {"US": [{"provider": "twilio", "from": "+14155550100"}, {"provider": "telnyx"}],
 *    "*":  [{"provider": "smc"}]}
 *
 * Keys are ISO 3166-1 alpha-2 codes of the destination (as libphonenumber-js resolves them) or "*" for every other
 * country. Problems name the place (`SMS_ROUTES.US[1]`) and what is wrong, and quote only the table's own keys and
 * provider names: the table holds no secrets, but a message never needs more than that.
 */

/** Providers a route may name ("log" delivers nothing: it is only a whole-gateway development setting). */
export const ROUTED_PROVIDERS = ["twilio", "smc", "telnyx"] as const;
export type RoutedProvider = (typeof ROUTED_PROVIDERS)[number];

export interface RouteEntry {
  provider: ProviderName;
  /** Overrides the provider's default sender on this route (validated shape, see senderRules.ts). */
  from?: string;
  /** Use Mosaic's sender_id where it is valid and the destination accepts alphanumeric senders. */
  useSenderId: boolean;
}

export interface RoutingTable {
  readonly byCountry: ReadonlyMap<string, readonly RouteEntry[]>;
  /** The "*" route, for every country without its own. */
  readonly fallback: readonly RouteEntry[] | undefined;
}

export interface Route {
  /** The table key that matched: a country code or "*". */
  key: string;
  entries: readonly RouteEntry[];
}

export const FALLBACK_KEY = "*";
const ENTRY_FIELDS = new Set(["provider", "from", "use_sender_id"]);
/** Codes people type that ISO spells otherwise. */
const COMMON_MISTAKES: Record<string, string> = { UK: "GB", EL: "GR" };

/** The table without SMS_ROUTES: one route, every country, one provider — the gateway as it always was. */
export function singleRoute(provider: ProviderName, useSenderId: boolean): RoutingTable {
  return { byCountry: new Map(), fallback: [{ provider, useSenderId }] };
}

/** The destination's own route, else "*"; undefined when neither exists (the country is not served). */
export function pickRoute(table: RoutingTable, to: Destination): Route | undefined {
  const own = to.country === undefined ? undefined : table.byCountry.get(to.country);
  if (own) return { key: to.country!, entries: own };
  return table.fallback ? { key: FALLBACK_KEY, entries: table.fallback } : undefined;
}

/** Every provider the table names, so config.ts requires exactly their settings. */
export function providersIn(table: RoutingTable): Set<ProviderName> {
  const used = new Set<ProviderName>();
  for (const entries of [...table.byCountry.values(), table.fallback ?? []]) for (const e of entries) used.add(e.provider);
  return used;
}

/** `SMS_ROUTES.KEY[i]` labels of the entries that match, for cross-checks against provider settings. */
export function entriesWhere(table: RoutingTable, match: (entry: RouteEntry, key: string) => boolean): string[] {
  const labels: string[] = [];
  const all: [string, readonly RouteEntry[]][] = [...table.byCountry];
  if (table.fallback) all.push([FALLBACK_KEY, table.fallback]);
  for (const [key, entries] of all) entries.forEach((e, i) => match(e, key) && labels.push(`SMS_ROUTES.${key}[${i}]`));
  return labels;
}

/**
 * Whether the route under `key` reaches a country that refuses alphanumeric senders: US, CA or PR themselves, or
 * "*" while any of them has no route of its own.
 */
export function reachesNoAlphanumeric(key: string, hasOwnRoute: (country: string) => boolean): boolean {
  if (key !== FALLBACK_KEY) return NO_ALPHANUMERIC_SENDER.has(key);
  return [...NO_ALPHANUMERIC_SENDER].some((country) => !hasOwnRoute(country));
}

export interface ParseRoutesOptions {
  /** `use_sender_id` when an entry leaves it out: TWILIO_USE_SENDER_ID for twilio, false otherwise. */
  defaultUseSenderId: (provider: RoutedProvider) => boolean;
}

export type ParsedRoutes =
  | { ok: true; table: RoutingTable }
  /** `providers`: the known ones the table names, so their settings are checked in the same run. */
  | { ok: false; problems: string[]; providers: Set<ProviderName> };

function describe(value: unknown): string {
  if (value === null) return "null";
  return Array.isArray(value) ? "a list" : typeof value === "object" ? "an object" : `a ${typeof value}`;
}

function checkKey(key: string, problems: string[]): boolean {
  if (key === FALLBACK_KEY) return true;
  const upper = key.toUpperCase();
  if (/^[A-Za-z]{2}$/.test(key) && key !== upper && isSupportedCountry(upper)) {
    problems.push(`SMS_ROUTES: "${key}" must be written in capitals ("${upper}")`);
  } else if (COMMON_MISTAKES[key]) {
    problems.push(`SMS_ROUTES: "${key}" is not an ISO 3166-1 alpha-2 code (did you mean "${COMMON_MISTAKES[key]}"?)`);
  } else if (!/^[A-Z]{2}$/.test(key) || !isSupportedCountry(key)) {
    problems.push(`SMS_ROUTES: ${JSON.stringify(key.slice(0, 20))} is not an ISO 3166-1 alpha-2 country code or "*"`);
  } else {
    return true;
  }
  return false;
}

function parseEntry(
  raw: unknown,
  where: string,
  refusesAlphanumeric: boolean,
  options: ParseRoutesOptions,
  problems: string[],
  named: Set<ProviderName>,
): RouteEntry | undefined {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    problems.push(`${where} must be an object like {"provider": "twilio"}, not ${describe(raw)}`);
    return undefined;
  }
  const fields = raw as Record<string, unknown>;
  const before = problems.length;
  for (const field of Object.keys(fields)) {
    if (!ENTRY_FIELDS.has(field)) {
      problems.push(`${where}: unknown field ${JSON.stringify(field.slice(0, 30))} (use provider, from, use_sender_id)`);
    }
  }
  const provider = fields.provider;
  if (provider === undefined) {
    problems.push(`${where}: "provider" is required (twilio, smc or telnyx)`);
    return undefined;
  }
  if (typeof provider !== "string" || !(ROUTED_PROVIDERS as readonly string[]).includes(provider)) {
    const shown = typeof provider === "string" ? JSON.stringify(provider.slice(0, 20)) : describe(provider);
    problems.push(`${where}: unknown provider ${shown} (use twilio, smc or telnyx)`);
    return undefined;
  }
  const name = provider as RoutedProvider;
  named.add(name);

  const from = fields.from;
  if (from !== undefined) {
    const kind = typeof from === "string" ? senderKind(from) : undefined;
    if (name === "smc") {
      problems.push(
        `${where}: "from" is not accepted for smc (it sends from the short or long code of its MobileConnect message)`,
      );
    } else if (typeof from !== "string" || kind === undefined) {
      problems.push(
        `${where}: "from" must be an E.164 number, a short code, an alphanumeric sender (1-11 letters, digits, spaces, one letter at least)${name === "twilio" ? " or a Messaging Service SID (MG…)" : ""}`,
      );
    } else if (kind === "messaging_service" && name !== "twilio") {
      problems.push(`${where}: a Messaging Service SID (MG…) is a Twilio sender, not a ${name} one`);
    } else if (kind === "alphanumeric" && refusesAlphanumeric) {
      problems.push(
        `${where}: an alphanumeric "from" cannot be used on this route: ${[...NO_ALPHANUMERIC_SENDER].join(", ")} refuse alphanumeric senders${where.startsWith(`SMS_ROUTES.${FALLBACK_KEY}[`) ? ` (give them routes of their own to use one on "*")` : ""}`,
      );
    }
  }

  const useSenderId = fields.use_sender_id;
  if (useSenderId !== undefined && typeof useSenderId !== "boolean") {
    problems.push(`${where}: "use_sender_id" must be true or false`);
  } else if (useSenderId === true && name === "smc") {
    problems.push(`${where}: "use_sender_id" is not accepted for smc (it sends from its MobileConnect message's code)`);
  }
  if (problems.length > before) return undefined;
  return {
    provider: name,
    ...(typeof from === "string" && { from }),
    useSenderId: typeof useSenderId === "boolean" ? useSenderId : options.defaultUseSenderId(name),
  };
}

/** Parses and validates SMS_ROUTES: the table, or every problem at once. */
export function parseRoutes(text: string, options: ParseRoutesOptions): ParsedRoutes {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // Not the parser's message: it quotes the text back.
    return { ok: false, problems: ["SMS_ROUTES is not valid JSON"], providers: new Set() };
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    return {
      ok: false,
      problems: [`SMS_ROUTES must be a JSON object of country code → list of providers, not ${describe(json)}`],
      providers: new Set(),
    };
  }
  const keys = Object.keys(json);
  if (keys.length === 0) return { ok: false, problems: ['SMS_ROUTES has no routes (give at least "*")'], providers: new Set() };

  const problems: string[] = [];
  const byCountry = new Map<string, RouteEntry[]>();
  let fallback: RouteEntry[] | undefined;
  const providers = new Set<ProviderName>();
  for (const key of keys) {
    // A bad key is reported, and its list still checked: one start names every problem.
    const keyOk = checkKey(key, problems);
    const list = (json as Record<string, unknown>)[key];
    if (!Array.isArray(list)) {
      problems.push(`SMS_ROUTES.${key} must be a list of providers, not ${describe(list)}`);
      continue;
    }
    if (list.length === 0) {
      problems.push(`SMS_ROUTES.${key}: the list of providers is empty`);
      continue;
    }
    const refuses = reachesNoAlphanumeric(key, (country) => keys.includes(country));
    const entries = list.map((raw, i) => parseEntry(raw, `SMS_ROUTES.${key}[${i}]`, refuses, options, problems, providers));
    if (keyOk && entries.every((e) => e !== undefined)) {
      if (key === FALLBACK_KEY) fallback = entries;
      else byCountry.set(key, entries);
    }
  }
  return problems.length > 0 ? { ok: false, problems, providers } : { ok: true, table: { byCountry, fallback } };
}
