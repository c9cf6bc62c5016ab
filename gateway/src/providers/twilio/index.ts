import type { TwilioConfig } from "../../config.ts";
import { GatewayError } from "../../errors.ts";
import type { OutgoingSms, SendContext, SmsProvider } from "../provider.ts";
import { classifyTwilioFailure, MESSAGE_SID, parseRetryAfter, type TwilioFailure } from "./classify.ts";
import { createTwilioTransport, type TwilioTransport } from "./httpClient.ts";
import type { MessagesFactory } from "./sdk.ts";
import { chooseSender } from "./sender.ts";

export interface TwilioProviderOptions {
  /** Pool size: one connection per concurrent request the instance is configured for. */
  maxSockets: number;
  now?: () => number;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Loads the SDK; injected in tests. Default: a dynamic import of ./sdk.ts, so startup never waits for it. */
  loadSdk?: () => Promise<MessagesFactory>;
  /** The HTTP transport under the SDK; injected in tests. Default: ./httpClient.ts on `config.apiBaseUrl`. */
  transport?: TwilioTransport;
}

/** Backoff for 429s: 100 ms doubling, full jitter, or Twilio's Retry-After when it sends one... */
const BASE_BACKOFF_MS = 100;
/** ...but never less than this: a `Retry-After: 0` must not turn the retry into a hot loop (issue 8). */
const MIN_BACKOFF_MS = 50;
/** Attempts per send, the first included: a 429 storm costs Twilio at most this many requests per OTP. */
export const MAX_ATTEMPTS = 3;
/**
 * An attempt is only started (written) if it has this long before the deadline: less would most likely be cut
 * off after Twilio received it, an SMS sent while the caller is told it timed out. Applies to every attempt, the
 * first included, and is checked again when the pooled connection is in hand.
 */
export const MIN_ATTEMPT_MS = 150;

async function importTwilio(): Promise<MessagesFactory> {
  return (await import("./sdk.ts")).createMessagesApi;
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

function toGatewayError(failure: TwilioFailure, cause?: unknown): GatewayError {
  const options = (code?: number) => ({ cause, context: { provider: "twilio", providerErrorCode: code } });
  switch (failure.kind) {
    case "destination_rejected":
      return new GatewayError(
        "destination_rejected",
        `Twilio permanently rejected the destination (error ${failure.code})`,
        options(failure.code),
      );
    case "rate_limited":
      return new GatewayError("provider_rate_limited", "Twilio is still rate limiting after retries", options(20429));
    case "not_started":
      return new GatewayError("provider_timeout", "no time was left before the deadline to send to Twilio; the SMS was not sent", options());
    case "provider_rejected": {
      const why =
        failure.reason === "not_connected"
          ? "could not connect to Twilio"
          : failure.reason === "redirect"
            ? `Twilio answered a redirect (${failure.code}), which the gateway never follows: it would carry the credentials elsewhere`
            : `Twilio refused the request (${failure.code === undefined ? "HTTP 4xx" : `error ${failure.code}`})`;
      return new GatewayError("provider_error", `${why}; the SMS was not sent`, options(failure.code));
    }
    case "unknown": {
      const what =
        failure.reason === "deadline"
          ? "Twilio did not answer before the deadline"
          : `Twilio's answer was unusable (${failure.code === undefined ? failure.reason : `${failure.reason}, error ${failure.code}`})`;
      return new GatewayError("outcome_unknown", `${what}: the SMS may or may not have been sent`, {
        ...options(failure.code),
        atDeadline: failure.reason === "deadline",
      });
    }
  }
}

export function createTwilioProvider(config: TwilioConfig, options: TwilioProviderOptions): SmsProvider {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? abortableSleep;
  const transport =
    options.transport ?? createTwilioTransport({ baseUrl: config.apiBaseUrl, maxSockets: options.maxSockets, now });
  let sdk: Promise<MessagesFactory> | undefined;
  const loadSdk = () => (sdk ??= (options.loadSdk ?? importTwilio)());
  const [username, password] =
    config.auth.kind === "authToken"
      ? [config.accountSid, config.auth.authToken]
      : [config.auth.keySid, config.auth.keySecret];

  async function send(sms: OutgoingSms, ctx: SendContext) {
    const messagesApi = await loadSdk();
    const sender = chooseSender(config, sms.to, sms.senderId);
    const params = { to: sms.to.e164, body: sms.body, ...sender };
    const startBy = ctx.deadline - MIN_ATTEMPT_MS;
    for (let attempt = 1; ; attempt++) {
      if (now() > startBy) throw toGatewayError({ kind: "not_started" });
      // A client per attempt binds the transport to this request's deadline; construction is cheap (lazy domains).
      const httpClient = transport.bind({ signal: ctx.signal, startBy });
      let message: { sid?: unknown };
      try {
        message = await messagesApi(username, password, {
          accountSid: config.accountSid,
          httpClient,
          autoRetry: false,
        }).create(params);
      } catch (err) {
        const failure = classifyTwilioFailure(err, {
          deadlinePassed: ctx.signal.aborted,
          written: httpClient.written,
          retryAfterMs: parseRetryAfter(httpClient.lastHeaders?.["retry-after"]),
        });
        if (failure.kind === "rate_limited" && attempt < MAX_ATTEMPTS) {
          const delay = Math.max(MIN_BACKOFF_MS, failure.retryAfterMs ?? Math.random() * BASE_BACKOFF_MS * 2 ** (attempt - 1));
          if (now() + delay <= startBy) {
            try {
              await sleep(delay, ctx.signal);
            } catch (abort) {
              throw toGatewayError({ kind: "not_started" }, abort);
            }
            continue;
          }
        }
        throw toGatewayError(failure, err);
      }
      // A 2xx without a Message SID is not an answer we can trust: it may or may not have been sent (README).
      if (typeof message.sid !== "string" || !MESSAGE_SID.test(message.sid)) {
        throw toGatewayError({ kind: "unknown", reason: "invalid_response" });
      }
      return { id: message.sid };
    }
  }

  return {
    name: "twilio",
    send,
    warmUp: async () => {
      await loadSdk();
    },
    close: () => transport.close(),
  };
}
