import type { TelnyxConfig } from "../../config.ts";
import type { AttemptContext, SmsProvider, OutgoingSms } from "../provider.ts";
import { retryDeps, retryWhileThrottled, type RetryDeps } from "../retry.ts";
import { sendClassified, type HttpTransport } from "../transport.ts";
import { classifyTelnyxAnswer } from "./classify.ts";

/**
 * Telnyx over plain HTTP: `POST {TELNYX_API_BASE_URL}/v2/messages`, Bearer key, JSON (developers.telnyx.com,
 * messaging "send-message").
 *
 * No `lookup` (issue 11): Telnyx cannot say whether an SMS whose answer was lost went out. Its Messages API reads
 * one message by the id that answer carried (`GET /v2/messages/{id}`, the only read in telnyx-node's
 * resources/messages); the detail-record search (`GET /v2/detail_records?filter[record_type]=messaging`) has the
 * number but no text (MessageDetailRecord: cld, cli, status "after the delivery attempt", no body), so it cannot
 * tell this OTP from another to the same number. A repeat falls to ON_UNKNOWN_REPEAT. Not the official `telnyx` SDK: bundled it adds ~23 ms of module loading and ~5 MiB
 * to the gateway (7.24.0, measured on Node 20), retries on its own by default, and sits on fetch, which cannot
 * say whether a failed request was written — the one thing failover needs to know.
 */

export interface TelnyxProviderOptions extends Partial<RetryDeps> {
  /** Shared by every provider of the instance (registry.ts), which closes it. */
  transport: HttpTransport;
  /** `{PUBLIC_BASE_URL}/receipts/telnyx` when Telnyx receipts are on: sent as each message's `webhook_url`. */
  webhookUrl?: string;
}

/**
 * The JSON body of one message. With an alphanumeric `from` the messaging profile is required (Telnyx's page).
 * `webhook_url` takes precedence over the messaging profile's webhook URL for this message's delivery webhooks
 * (Telnyx's send-message parameters, e.g. team-telnyx/telnyx-node `MessageSendParams.webhook_url`).
 */
export function telnyxMessage(config: TelnyxConfig, sms: OutgoingSms, sender: AttemptContext["sender"], webhookUrl?: string) {
  const profile = config.messagingProfileId;
  const from = (profile !== undefined ? sender.alphanumeric : undefined) ?? sender.from ?? config.fromNumber;
  return {
    to: sms.to.e164,
    text: sms.body,
    ...(from !== undefined && { from }),
    ...(profile !== undefined && { messaging_profile_id: profile }),
    ...(webhookUrl !== undefined && { webhook_url: webhookUrl }),
  };
}

export function createTelnyxProvider(config: TelnyxConfig, options: TelnyxProviderOptions): SmsProvider {
  const deps = retryDeps(options);
  const url = new URL(`${config.apiBaseUrl}/v2/messages`);
  const headers = {
    Authorization: `Bearer ${config.apiKey}`,
    "Content-Type": "application/json",
    Accept: "application/json",
  };

  return {
    name: "telnyx",
    attempt(sms, ctx) {
      const body = JSON.stringify(telnyxMessage(config, sms, ctx.sender, options.webhookUrl));
      return retryWhileThrottled(
        (limits) => sendClassified(options.transport, "Telnyx", { url, method: "POST", headers, body }, limits, classifyTelnyxAnswer),
        ctx,
        deps,
      );
    },
  };
}
