import { DEFAULT_OTP_VALIDITY_S, type TwilioConfig } from "../../config.ts";
import { twilioStatusCallbackUrl } from "../../receipts/twilio.ts";
import { parseRetryAfter } from "../answer.ts";
import type { SmsProvider } from "../provider.ts";
import { retryDeps, retryWhileThrottled, type RetryDeps } from "../retry.ts";
import type { HttpTransport } from "../transport.ts";
import { classifyTwilioFailure, classifyTwilioMessage } from "./classify.ts";
import { createTwilioTransport, shareTwilioHttpClient, type TwilioTransport } from "./httpClient.ts";
import { dateSentAfter, findSent, MAX_PAGES, PAGE_SIZE, RECENT_PAGE_SIZE } from "./lookup.ts";
import type { MessagePage, MessagesApi, MessagesFactory } from "./sdk.ts";
import { twilioSender } from "./sender.ts";

export interface TwilioProviderOptions extends Partial<RetryDeps> {
  /** The instance's shared HTTP transport (registry.ts closes it). */
  transport: HttpTransport;
  /** Loads the SDK; injected in tests. Default: a dynamic import of ./sdk.ts, so startup never waits for it. */
  loadSdk?: () => Promise<MessagesFactory>;
  /** What the SDK calls as its httpClient; injected in tests. Default: `transport` on TWILIO_API_BASE_URL. */
  sdkTransport?: TwilioTransport;
  /** OTP_VALIDITY_S, sent as every message's ValidityPeriod. Default DEFAULT_OTP_VALIDITY_S (600). */
  validityPeriodS?: number;
  /** PUBLIC_BASE_URL when Twilio receipts are on: each message's StatusCallback points there. Default: none. */
  statusCallbackBaseUrl?: string;
}

async function importTwilio(): Promise<MessagesFactory> {
  return (await import("./sdk.ts")).createMessagesApi;
}

/**
 * Twilio through its official SDK (Messages create), on the gateway's shared transport. A 429 is retried within
 * the attempt's limits (retry.ts); every other outcome goes back to the chain. `lookup` reads the Messages list
 * (lookup.ts) to tell whether an earlier send whose answer was lost went out.
 */
export function createTwilioProvider(config: TwilioConfig, options: TwilioProviderOptions): SmsProvider {
  const deps = retryDeps(options);
  const http = options.sdkTransport ?? createTwilioTransport(options.transport, config.apiBaseUrl);
  let sdk: Promise<MessagesFactory> | undefined;
  const loadSdk = () => (sdk ??= (options.loadSdk ?? importTwilio)());
  const { validityPeriodS: validityPeriod = DEFAULT_OTP_VALIDITY_S, statusCallbackBaseUrl } = options;
  const [username, password] =
    config.auth.kind === "authToken"
      ? [config.accountSid, config.auth.authToken]
      : [config.auth.keySid, config.auth.keySecret];

  // One SDK client for every send and look-up (its Client, Api and Messages objects), each request routed to the
  // limits of the call that made it.
  const shared = shareTwilioHttpClient();
  let messagesApi: Promise<MessagesApi> | undefined;
  const messages = () =>
    (messagesApi ??= loadSdk().then((factory) =>
      factory(username, password, { accountSid: config.accountSid, httpClient: shared.httpClient, autoRetry: false }),
    ));

  return {
    name: "twilio",
    async attempt(sms, ctx) {
      const api = await messages();
      const sender = twilioSender(config.sender, ctx.sender);
      return retryWhileThrottled(
        async (limits) => {
          // Twilio drops the message if it is still queued after ValidityPeriod: an expired OTP is not worth sending.
          // StatusCallback's `sent` stamp (receipts/twilio.ts) is this request's time: a 429 retry is a new message.
          const params = {
            to: sms.to.e164,
            body: sms.body,
            ...sender,
            validityPeriod,
            ...(statusCallbackBaseUrl !== undefined && { statusCallback: twilioStatusCallbackUrl(statusCallbackBaseUrl, deps.now()) }),
          };
          // This request's limits and state (written, Retry-After), bound for the one call below.
          const httpClient = http.bind(limits);
          try {
            const message = await shared.through(httpClient, () => api.create(params));
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
    async lookup(sms, ctx) {
      const api = await messages();
      // Read-only GETs: whether they were written does not matter, only that none starts after startBy.
      const bound = http.bind({ signal: ctx.signal, startBy: ctx.startBy });
      const read = (call: () => Promise<MessagePage>) => shared.through(bound, call);
      const find = (page: MessagePage) => findSent(page.instances, sms.to.e164, sms.body, ctx.since);
      try {
        let page = await read(() => api.page({ to: sms.to.e164, dateSentAfter: dateSentAfter(ctx.since), pageSize: PAGE_SIZE }));
        for (let n = 1; ; n++) {
          const sid = find(page);
          if (sid !== undefined) return { found: sid };
          if (!page.nextPageUrl) break;
          if (n >= MAX_PAGES || deps.now() > ctx.startBy) return "cannot_tell";
          const current = page;
          page = await read(() => current.nextPage()!); // there is a nextPageUrl, so a next page
        }
        // Still queued at Twilio (no date_sent yet): only an unfiltered read of the newest messages shows it.
        const recent = await read(() => api.page({ to: sms.to.e164, pageSize: RECENT_PAGE_SIZE }));
        const sid = find(recent);
        return sid === undefined ? "absent" : { found: sid };
      } catch {
        // A refusal (credentials without read access: 20003), a 5xx, the time running out: no answer either way.
        return "cannot_tell";
      }
    },
    warmUp: async () => {
      await loadSdk();
    },
  };
}
