import type { ProtectionKeys } from "./keys.ts";
import type { Limit, LimitSettings } from "./settings.ts";
import type { Counter, ProtectionStore } from "./store.ts";

/**
 * Abuse limits against SMS pumping (issue 11; PROVIDERS.md on how Twilio, Stytch and Vonage defend): which
 * countries may be sent to, and how many sends per number, per number range (the number without its last 3
 * digits), per country and in all, each in a fixed window. Counters live in the store, so they hold across
 * instances with Redis. Only sends are counted: the caller checks after dedupe, so a deduplicated repeat
 * (which sends nothing) never reaches here, and a send refused by one limit is given back to the others.
 */

export type LimitName = "per_number" | "per_prefix" | "per_country" | "global";

export type LimitVerdict =
  | { kind: "allowed" }
  /** 429 with Retry-After: retryAfterS. */
  | { kind: "rate_limited"; limit: LimitName; retryAfterS: number }
  /** 403: outside ALLOWED_COUNTRIES (or a number no country can be told for, when the list is set). */
  | { kind: "country_not_allowed"; country: string | undefined };

/** The destination as smsRequest.ts parsed it (phone.ts Destination). */
export interface LimitedDestination {
  e164: string;
  callingCode: string;
  country: string | undefined;
}

export interface Limits {
  check(destination: LimitedDestination): Promise<LimitVerdict>;
}

interface Rule {
  name: LimitName;
  counter: Counter;
  keyOf(destination: LimitedDestination): string;
}

export function createLimits(options: { store: ProtectionStore; keys: ProtectionKeys; settings: LimitSettings }): Limits {
  const { store, keys, settings } = options;
  const rules: Rule[] = [];
  const add = (name: LimitName, limit: Limit | undefined, keyOf: Rule["keyOf"]) => {
    if (limit) rules.push({ name, counter: store.counter(name, limit), keyOf });
  };
  add("per_number", settings.perNumber, (d) => keys.number(d.e164));
  add("per_prefix", settings.perPrefix, (d) => keys.prefix(d.e164));
  // A country is no personal data; numbers without one (satellite, international networks) share their code's.
  add("per_country", settings.perCountry, (d) => d.country ?? `+${d.callingCode}`);
  add("global", settings.global, () => "all");

  return {
    async check(destination) {
      const allowedCountries = settings.allowedCountries;
      if (allowedCountries && (destination.country === undefined || !allowedCountries.has(destination.country))) {
        return { kind: "country_not_allowed", country: destination.country };
      }
      // Every counter at once: their commands go out without waiting for each other, one round trip to Redis.
      const verdicts = await Promise.all(
        rules.map(async (rule) => {
          const key = rule.keyOf(destination);
          return { rule, key, verdict: await rule.counter.consume(key) };
        }),
      );
      let refusal: { limit: LimitName; ms: number } | undefined;
      for (const { rule, verdict } of verdicts) {
        // The longest wait names the limit: a retry any sooner would be refused again.
        if (!verdict.allowed && (!refusal || verdict.msBeforeNext > refusal.ms)) refusal = { limit: rule.name, ms: verdict.msBeforeNext };
      }
      if (!refusal) return { kind: "allowed" };
      await Promise.all(verdicts.filter((v) => v.verdict.allowed).map((v) => v.rule.counter.refund(v.key)));
      return { kind: "rate_limited", limit: refusal.limit, retryAfterS: Math.max(1, Math.ceil(refusal.ms / 1000)) };
    },
  };
}
