import type { TwilioConfig } from "../../config.ts";
import { GatewayError } from "../../errors.ts";
import type { OutgoingSms, SendContext, SmsProvider } from "../provider.ts";
import { classifyTwilioFailure, parseRetryAfter, type TwilioFailure } from "./classify.ts";
import { createTwilioTransport } from "./httpClient.ts";
import type { MessagesFactory } from "./sdk.ts";
import { chooseSender } from "./sender.ts";

export interface TwilioProviderOptions {
  /** Pool size: one connection per concurrent request the instance is configured for. */
  maxSockets: number;
  now?: () => number;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Loads the SDK; injected in tests. Default: a dynamic import of ./sdk.ts, so startup never waits for it. */
  loadSdk?: () => Promise<MessagesFactory>;
}

/** Backoff for 429s: 100 ms doubling, full jitter, or Twilio's Retry-After when it sends one. */
const BASE_BACKOFF_MS = 100;
/** A retry is only worth it if the attempt itself has this long before the deadline. */
const MIN_ATTEMPT_MS = 150;

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

function toGatewayError(failure: TwilioFailure, cause: unknown): GatewayError {
  const options = (code?: number) => ({ cause, context: { provider: "twilio", providerErrorCode: code } });
  switch (failure.kind) {
    case "rejected":
      return new GatewayError(
        "destination_rejected",
        `Twilio permanently rejected the destination (error ${failure.code})`,
        options(failure.code),
      );
    case "rate_limited":
      return new GatewayError("provider_rate_limited", "Twilio is still rate limiting after retries", options(20429));
    case "timeout":
      return new GatewayError("provider_timeout", "Twilio did not answer in time; the SMS may or may not be sent", options());
    case "failed": {
      const detail = failure.code === undefined ? failure.reason : `${failure.reason}, error ${failure.code}`;
      return new GatewayError("provider_error", `Twilio request failed (${detail})`, options(failure.code));
    }
  }
}

export function createTwilioProvider(config: TwilioConfig, options: TwilioProviderOptions): SmsProvider {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? abortableSleep;
  const transport = createTwilioTransport({ baseUrl: config.apiBaseUrl, maxSockets: options.maxSockets });
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
    for (let attempt = 0; ; attempt++) {
      // A client per send binds the transport to this request's deadline; construction is cheap (lazy domains).
      const httpClient = transport.bind(ctx.signal);
      try {
        const message = await messagesApi(username, password, {
          accountSid: config.accountSid,
          httpClient,
          autoRetry: false,
        }).create(params);
        return { id: message.sid };
      } catch (err) {
        const failure = classifyTwilioFailure(err, {
          deadlinePassed: ctx.signal.aborted,
          retryAfterMs: parseRetryAfter(httpClient.lastHeaders?.["retry-after"]),
        });
        if (failure.kind === "rate_limited") {
          const delay = failure.retryAfterMs ?? Math.random() * BASE_BACKOFF_MS * 2 ** attempt;
          if (now() + delay + MIN_ATTEMPT_MS < ctx.deadline) {
            try {
              await sleep(delay, ctx.signal);
            } catch (abort) {
              throw toGatewayError({ kind: "timeout" }, abort);
            }
            continue;
          }
        }
        throw toGatewayError(failure, err);
      }
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
