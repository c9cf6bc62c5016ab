import type { TwilioConfig } from "../../config.ts";
import { parseRetryAfter } from "../answer.ts";
import type { SmsProvider } from "../provider.ts";
import { abortableSleep, retryWhileThrottled, type RetryDeps } from "../retry.ts";
import type { HttpTransport } from "../transport.ts";
import { classifyTwilioFailure, classifyTwilioMessage } from "./classify.ts";
import { createTwilioTransport, type TwilioTransport } from "./httpClient.ts";
import type { MessagesFactory } from "./sdk.ts";
import { twilioSender } from "./sender.ts";

export interface TwilioProviderOptions extends Partial<RetryDeps> {
  /** The instance's shared HTTP transport (registry.ts closes it). */
  transport: HttpTransport;
  /** Loads the SDK; injected in tests. Default: a dynamic import of ./sdk.ts, so startup never waits for it. */
  loadSdk?: () => Promise<MessagesFactory>;
  /** What the SDK calls as its httpClient; injected in tests. Default: `transport` on TWILIO_API_BASE_URL. */
  sdkTransport?: TwilioTransport;
}

async function importTwilio(): Promise<MessagesFactory> {
  return (await import("./sdk.ts")).createMessagesApi;
}

/**
 * Twilio through its official SDK (Messages create), on the gateway's shared transport. A 429 is retried within
 * the attempt's limits (retry.ts); every other outcome goes back to the chain.
 */
export function createTwilioProvider(config: TwilioConfig, options: TwilioProviderOptions): SmsProvider {
  const deps: RetryDeps = { now: options.now ?? Date.now, sleep: options.sleep ?? abortableSleep, ...options };
  const http = options.sdkTransport ?? createTwilioTransport(options.transport, config.apiBaseUrl);
  let sdk: Promise<MessagesFactory> | undefined;
  const loadSdk = () => (sdk ??= (options.loadSdk ?? importTwilio)());
  const [username, password] =
    config.auth.kind === "authToken"
      ? [config.accountSid, config.auth.authToken]
      : [config.auth.keySid, config.auth.keySecret];

  return {
    name: "twilio",
    async attempt(sms, ctx) {
      const messagesApi = await loadSdk();
      const params = { to: sms.to.e164, body: sms.body, ...twilioSender(config.sender, ctx.sender) };
      return retryWhileThrottled(
        async (limits) => {
          // A client per request binds the transport to its limits; construction is cheap (lazy domains).
          const httpClient = http.bind(limits);
          try {
            const message = await messagesApi(username, password, {
              accountSid: config.accountSid,
              httpClient,
              autoRetry: false,
            }).create(params);
            return classifyTwilioMessage(message);
          } catch (err) {
            return classifyTwilioFailure(err, {
              deadlinePassed: ctx.signal.aborted,
              written: httpClient.written,
              retryAfterMs: parseRetryAfter(httpClient.lastHeaders?.["retry-after"]),
            });
          }
        },
        ctx,
        deps,
      );
    },
    warmUp: async () => {
      await loadSdk();
    },
  };
}
