import { runChain, type AttemptRecord, type ChainDeadline, type ChainVerdict } from "./delivery/chain.ts";
import { pickRoute, type RoutingTable } from "./delivery/routes.ts";
import { GatewayError } from "./errors.ts";
import {
  EVENT_FIELD,
  LOG_EVENTS,
  SEND_FAILURE_OUTCOMES,
  SEND_FIELDS,
  SEND_OUTCOMES,
  UNKNOWN_COUNTRY,
  type SendOutcomeName,
} from "./logEvents.ts";
import type { LogFields, Severity } from "./log.ts";
import type { Dedupe, LookupAnswer, SendRecord } from "./protection/dedupe.ts";
import type { LimitName, Limits } from "./protection/limits.ts";
import type { SmsProvider, OutgoingSms, ProviderName } from "./providers/provider.ts";
import { MIN_ATTEMPT_MS } from "./providers/retry.ts";

/**
 * One send, top to bottom: dedupe → limits → route → attempt chain (ARCH.md). The only caller of providers.
 * Returns what happened, for the answer and for the `sms.send` log line; app.ts turns a verdict that is not
 * `sent` into the GatewayError below, and errors.ts into the HTTP answer.
 */

/** Duplicate suppression and abuse limits (protection/, issue 11), on the store main.ts opened. */
export interface Protection {
  dedupe: Dedupe;
  limits: Limits;
}

export interface SendDeps {
  table: RoutingTable;
  providers: ReadonlyMap<ProviderName, SmsProvider>;
  /** FAILOVER_ON_UNKNOWN. */
  failoverOnUnknown: boolean;
  now: () => number;
  /** Omitted: every request sends and nothing is counted (tests of the delivery policy alone). */
  protection?: Protection;
}

export type SendVerdict =
  | ChainVerdict
  | { kind: "no_route" }
  /** A limit refused the send before any provider saw it: 429 with Retry-After. */
  | { kind: "rate_limited"; limit: LimitName; retryAfterS: number }
  /** The destination's country is outside ALLOWED_COUNTRIES: 403. */
  | { kind: "country_refused" }
  /** An earlier attempt's outcome is unknown, no provider could tell, and ON_UNKNOWN_REPEAT=suppress. */
  | { kind: "unknown_repeat"; provider: string | undefined }
  /** Another request (on another instance) is still sending this SMS when this one must answer. */
  | { kind: "in_flight_elsewhere" };

export interface SendReport {
  /** The SMS_ROUTES key used ("*" without SMS_ROUTES); undefined when no route served it (or none was needed). */
  route: string | undefined;
  attempts: AttemptRecord[];
  verdict: SendVerdict;
  /**
   * This request sent nothing and answers with an earlier send's result: from the dedupe record, from the
   * provider's look-up, or by joining the same SMS in flight on this instance.
   */
  deduplicated?: "record" | "lookup" | "joined";
}

/** `attempts` is filled as they finish (the app reads it if the deadline passes first). */
export type Sender = (sms: OutgoingSms, deadline: ChainDeadline, attempts?: AttemptRecord[]) => Promise<SendReport>;

/**
 * A look-up ends this long before the deadline, so that a send it finds necessary still has time to be made
 * (MIN_ATTEMPT_MS for the attempt, as much again for the route and the connection).
 */
export const LOOKUP_RESERVE_MS = 2 * MIN_ATTEMPT_MS;

/** What a finished send leaves in the dedupe store: only "sent" and "unknown" are remembered. */
export function recordOf(report: SendReport): SendRecord {
  const { verdict } = report;
  if (verdict.kind === "sent") return { kind: "sent", provider: verdict.provider, id: verdict.id };
  if (verdict.kind !== "unknown") return { kind: "none" };
  // Every provider that may have it (FAILOVER_ON_UNKNOWN tries more than one): the look-up asks them all.
  const unknown = [...new Set(report.attempts.filter((a) => a.outcome === "unknown").map((a) => a.provider))];
  return { kind: "unknown", provider: (unknown.length > 0 ? unknown : [verdict.provider]).join(",") };
}

export function createSender({ table, providers, failoverOnUnknown, now, protection }: SendDeps): Sender {
  async function deliver(sms: OutgoingSms, deadline: ChainDeadline, attempts: AttemptRecord[]): Promise<SendReport> {
    if (protection) {
      const limit = await protection.limits.check(sms.to);
      if (limit.kind === "rate_limited") return { route: undefined, attempts, verdict: limit };
      if (limit.kind === "country_not_allowed") return { route: undefined, attempts, verdict: { kind: "country_refused" } };
    }
    const route = pickRoute(table, sms.to);
    if (!route) return { route: undefined, attempts, verdict: { kind: "no_route" } };
    // config.ts builds a provider for every name the table uses: a missing one is a bug, not a runtime condition.
    const steps = route.entries.map((entry) => ({ provider: providers.get(entry.provider)!, entry }));
    const { verdict } = await runChain(steps, sms, deadline, { now, failoverOnUnknown, minAttemptMs: MIN_ATTEMPT_MS }, attempts);
    return { route: route.key, attempts, verdict };
  }

  /**
   * Asks the providers that may have sent it (the record names them; a holder that died named none: the route's)
   * whether `sms` went out. Found by any: found. "absent" only when every one of them can look and says so.
   */
  async function lookup(
    sms: OutgoingSms,
    earlier: { provider: string | undefined; since: number },
    deadline: ChainDeadline,
  ): Promise<LookupAnswer> {
    const names = earlier.provider?.split(",") ?? pickRoute(table, sms.to)?.entries.map((e) => e.provider) ?? [];
    const asked = [...new Set(names)].map((name) => providers.get(name as ProviderName));
    const startBy = deadline.deadline - LOOKUP_RESERVE_MS;
    if (asked.length === 0 || now() >= startBy) return "cannot_tell";
    const controller = new AbortController();
    const stop = () => controller.abort(deadline.signal.reason);
    deadline.signal.addEventListener("abort", stop, { once: true });
    const timer = setTimeout(() => controller.abort(new Error("look-up out of time")), startBy - now());
    try {
      const answers = await Promise.all(
        asked.map(async (provider) =>
          provider?.lookup ? { provider, answer: await provider.lookup(sms, { since: earlier.since, signal: controller.signal, startBy }) } : undefined,
        ),
      );
      for (const a of answers) if (a && typeof a.answer === "object") return { found: { provider: a.provider.name, id: a.answer.found } };
      return answers.every((a) => a?.answer === "absent") ? "absent" : "cannot_tell";
    } finally {
      clearTimeout(timer);
      deadline.signal.removeEventListener("abort", stop);
    }
  }

  return async function send(sms, deadline, attempts = []) {
    if (!protection) return deliver(sms, deadline, attempts);
    const result = await protection.dedupe.run(
      {
        e164: sms.to.e164,
        message: sms.body,
        deadline: deadline.deadline,
        signal: deadline.signal,
        lookup: (earlier) => lookup(sms, earlier, deadline),
      },
      () => deliver(sms, deadline, attempts),
      recordOf,
    );
    switch (result.kind) {
      case "sent_now":
        return result.result;
      case "joined":
        // The same SMS was in flight on this instance: its answer, without its attempts (this request made none).
        return {
          route: result.result.route,
          attempts,
          verdict: result.result.verdict,
          ...(result.result.verdict.kind === "sent" && { deduplicated: "joined" as const }),
        };
      case "duplicate":
        return {
          route: undefined,
          attempts,
          verdict: { kind: "sent", provider: result.provider as ProviderName, id: result.id },
          deduplicated: result.source,
        };
      case "unknown_suppressed":
        return { route: undefined, attempts, verdict: { kind: "unknown_repeat", provider: result.provider } };
      case "still_in_flight":
        return { route: undefined, attempts, verdict: { kind: "in_flight_elsewhere" } };
    }
  };
}

const NAMES: Record<ProviderName, string> = { twilio: "Twilio", smc: "SMC", telnyx: "Telnyx", log: "the log provider" };

const LIMIT_VARIABLES: Record<LimitName, string> = {
  per_number: "RATE_LIMIT_PER_NUMBER",
  per_prefix: "RATE_LIMIT_PER_PREFIX",
  per_country: "RATE_LIMIT_PER_COUNTRY",
  global: "RATE_LIMIT_GLOBAL",
};

/** The `limit` of a 403 from ALLOWED_COUNTRIES, in the log line beside the rate limits' names. */
export const ALLOWED_COUNTRIES_LIMIT = "allowed_countries";

/** The error a verdict that is not `sent` answers with. Messages are ours: never a provider's text. */
export function verdictError(verdict: Exclude<SendVerdict, { kind: "sent" }>, country: string | undefined): GatewayError {
  switch (verdict.kind) {
    case "no_route":
      return new GatewayError(
        "country_not_allowed",
        `no route for destination country ${country ?? "(unknown)"}: SMS_ROUTES has neither its code nor "*"`,
      );
    case "country_refused":
      return new GatewayError("country_not_allowed", `destination country ${country ?? "(unknown)"} is not in ALLOWED_COUNTRIES`, {
        context: { limit: ALLOWED_COUNTRIES_LIMIT },
      });
    case "rate_limited":
      return new GatewayError(
        "rate_limited",
        `too many SMS (${LIMIT_VARIABLES[verdict.limit]}); retry after ${verdict.retryAfterS} s; the SMS was not sent`,
        { retryAfterS: verdict.retryAfterS, context: { limit: verdict.limit } },
      );
    case "unknown_repeat":
      return new GatewayError(
        "outcome_unknown",
        "an earlier attempt to send this SMS has an unknown outcome and the provider cannot tell whether it went out; " +
          "not sent again (ON_UNKNOWN_REPEAT=suppress): the SMS may or may not have been sent",
        { context: { ...(verdict.provider !== undefined && { provider: verdict.provider }) } },
      );
    case "in_flight_elsewhere":
      return new GatewayError(
        "outcome_unknown",
        "the same SMS is still being sent by an earlier request: the SMS may or may not have been sent",
        { atDeadline: true },
      );
    case "destination_rejected":
      return new GatewayError("destination_rejected", `${NAMES[verdict.provider]} permanently rejected the destination: ${verdict.reason}`, {
        context: { provider: verdict.provider, providerErrorCode: verdict.code },
      });
    case "rejected":
      return new GatewayError(
        verdict.throttled ? "provider_rate_limited" : "provider_rejected",
        verdict.throttled
          ? `${NAMES[verdict.provider]} is rate limiting after the retries that fit; the SMS was not sent`
          : `every provider refused the SMS, last ${NAMES[verdict.provider]}: ${verdict.reason}; the SMS was not sent`,
        { context: { provider: verdict.provider, providerErrorCode: verdict.code } },
      );
    case "unknown":
      return new GatewayError(
        "outcome_unknown",
        `${verdict.reason}: the SMS may or may not have been sent`,
        { atDeadline: verdict.deadline, context: { provider: verdict.provider, providerErrorCode: verdict.code } },
      );
    case "timeout":
      return new GatewayError("provider_timeout", `${verdict.reason}; the SMS was not sent`);
  }
}

/** The `sms.send` outcome of an answer: the error's code where logEvents.ts names it. */
export function sendOutcome(error: GatewayError | undefined, deduplicated = false): SendOutcomeName {
  if (error === undefined) return deduplicated ? "deduplicated" : "sent";
  if ((SEND_OUTCOMES as readonly string[]).includes(error.code)) return error.code as SendOutcomeName;
  if (error.code === "provider_rate_limited") return "provider_rejected"; // every provider refused; the last throttled
  if (error.code === "internal") return "outcome_unknown"; // a bug may strike after a provider took the SMS
  return "invalid_request";
}

export interface SendLine {
  outcome: SendOutcomeName;
  /** The provider that sent, or the last one tried. */
  provider: ProviderName | undefined;
  country: string | undefined;
  /** Masked (phone.ts). */
  destination: string | undefined;
  route: string | undefined;
  attempts: readonly AttemptRecord[];
  providerMessageId: string | undefined;
  latencyMs: number;
  /** Which limit refused it (rate_limited, country_not_allowed from ALLOWED_COUNTRIES). */
  limit?: string | undefined;
  /** Where a deduplicated answer came from. */
  dedupe?: SendReport["deduplicated"];
}

/** The one `sms.send` line per POST (ARCH.md, logEvents.ts): never the text, never a full number. */
export function sendLogLine(line: SendLine): { severity: Severity; message: string; fields: LogFields } {
  const failed = (SEND_FAILURE_OUTCOMES as readonly string[]).includes(line.outcome);
  return {
    severity: line.outcome === "sent" || line.outcome === "deduplicated" ? "INFO" : failed ? "ERROR" : "WARNING",
    message: `${LOG_EVENTS.send} ${line.outcome}`,
    fields: {
      [EVENT_FIELD]: LOG_EVENTS.send,
      [SEND_FIELDS.outcome]: line.outcome,
      ...(line.provider && { [SEND_FIELDS.provider]: line.provider }),
      [SEND_FIELDS.country]: line.country ?? UNKNOWN_COUNTRY,
      ...(line.destination && { destination: line.destination }),
      ...(line.route && { [SEND_FIELDS.route]: line.route }),
      [SEND_FIELDS.attempts]: line.attempts,
      [SEND_FIELDS.failover]: line.attempts.length > 1,
      ...(line.providerMessageId && { providerMessageId: line.providerMessageId }),
      ...(line.limit && { [SEND_FIELDS.limit]: line.limit }),
      ...(line.dedupe && { [SEND_FIELDS.dedupe]: line.dedupe }),
      [SEND_FIELDS.latencyMs]: line.latencyMs,
    },
  };
}
