import { runChain, type AttemptRecord, type ChainDeadline, type ChainVerdict } from "./delivery/chain.ts";
import { pickRoute, type RoutingTable } from "./delivery/routes.ts";
import { GatewayError } from "./errors.ts";
import { EVENT_FIELD, LOG_EVENTS, SEND_FAILURE_OUTCOMES, SEND_FIELDS, SEND_OUTCOMES, UNKNOWN_COUNTRY, type SendOutcomeName } from "./logEvents.ts";
import type { LogFields, Severity } from "./log.ts";
import type { SmsProvider, OutgoingSms, ProviderName } from "./providers/provider.ts";
import { MIN_ATTEMPT_MS } from "./providers/retry.ts";

/**
 * One send, top to bottom: route → attempt chain (protection's dedupe and limits go in front, issue 11). The only
 * caller of providers. Returns what happened, for the answer and for the `sms.send` log line; app.ts turns a
 * verdict that is not `sent` into the GatewayError below, and errors.ts into the HTTP answer.
 */

export interface SendDeps {
  table: RoutingTable;
  providers: ReadonlyMap<ProviderName, SmsProvider>;
  /** FAILOVER_ON_UNKNOWN. */
  failoverOnUnknown: boolean;
  now: () => number;
}

export interface SendReport {
  /** The SMS_ROUTES key used ("*" without SMS_ROUTES); undefined when no route serves the country. */
  route: string | undefined;
  attempts: AttemptRecord[];
  verdict: ChainVerdict | { kind: "no_route" };
}

/** `attempts` is filled as they finish (the app reads it if the deadline passes first). */
export type Sender = (sms: OutgoingSms, deadline: ChainDeadline, attempts?: AttemptRecord[]) => Promise<SendReport>;

export function createSender({ table, providers, failoverOnUnknown, now }: SendDeps): Sender {
  return async function send(sms, deadline, attempts = []) {
    const route = pickRoute(table, sms.to);
    if (!route) return { route: undefined, attempts, verdict: { kind: "no_route" } };
    // config.ts builds a provider for every name the table uses: a missing one is a bug, not a runtime condition.
    const steps = route.entries.map((entry) => ({ provider: providers.get(entry.provider)!, entry }));
    const { verdict } = await runChain(steps, sms, deadline, { now, failoverOnUnknown, minAttemptMs: MIN_ATTEMPT_MS }, attempts);
    return { route: route.key, attempts, verdict };
  };
}

const NAMES: Record<ProviderName, string> = { twilio: "Twilio", smc: "SMC", telnyx: "Telnyx", log: "the log provider" };

/** The error a verdict that is not `sent` answers with. Messages are ours: never a provider's text. */
export function verdictError(verdict: Exclude<SendReport["verdict"], { kind: "sent" }>, country: string | undefined): GatewayError {
  switch (verdict.kind) {
    case "no_route":
      return new GatewayError(
        "country_not_allowed",
        `no route for destination country ${country ?? "(unknown)"}: SMS_ROUTES has neither its code nor "*"`,
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
export function sendOutcome(error: GatewayError | undefined): SendOutcomeName {
  if (error === undefined) return "sent";
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
}

/** The one `sms.send` line per POST (ARCH.md, logEvents.ts): never the text, never a full number. */
export function sendLogLine(line: SendLine): { severity: Severity; message: string; fields: LogFields } {
  const failed = (SEND_FAILURE_OUTCOMES as readonly string[]).includes(line.outcome);
  return {
    severity: line.outcome === "sent" ? "INFO" : failed ? "ERROR" : "WARNING",
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
      [SEND_FIELDS.latencyMs]: line.latencyMs,
    },
  };
}
