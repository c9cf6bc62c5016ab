import type { GatewayConfig } from "../config.ts";
import type { LogFields, Severity } from "../log.ts";
import type { ProviderName } from "../providers/provider.ts";
import { TELNYX_RECEIPT_PATH } from "./telnyx.ts";
import { TWILIO_RECEIPT_PATH, twilioReceiptAvailability } from "./twilio.ts";

/**
 * Which providers' delivery receipts this deployment takes, decided once from the configuration (pure): app.ts
 * mounts the endpoints from it, the providers put the callback URLs on their sends from it (registry.ts), and
 * main.ts says at startup what is on and why the rest is off. One decision (config.ts makes it, as GatewayConfig's
 * `receipts`), so a send never asks a provider to call an endpoint that is not mounted.
 */
export interface ReceiptSettings {
  /** PUBLIC_BASE_URL: what the endpoints verify Twilio's signatures against. */
  publicBaseUrl: string | undefined;
  twilio:
    | {
        enabled: true;
        authToken: string;
        /** Each send's StatusCallback is this origin's /receipts/twilio, stamped with the send time. */
        publicBaseUrl: string;
      }
    | { enabled: false; reason: string };
  telnyx:
    | {
        enabled: true;
        publicKey: string;
        /** Sent as each message's `webhook_url`; undefined without PUBLIC_BASE_URL (then see `note`). */
        webhookUrl: string | undefined;
        note?: string;
      }
    | { enabled: false; reason: string };
}

export type ReceiptConfig = Pick<GatewayConfig, "publicBaseUrl" | "twilio" | "telnyxPublicKey">;

function twilioSettings({ twilio, publicBaseUrl }: ReceiptConfig): ReceiptSettings["twilio"] {
  if (twilio === undefined) return { enabled: false, reason: "Twilio delivery receipts are off: Twilio is not configured" };
  const availability = twilioReceiptAvailability(twilio.auth, publicBaseUrl);
  if (!availability.enabled) return availability;
  // Enabled means an auth token and a public base URL; narrowed again here for the types.
  if (twilio.auth.kind !== "authToken" || publicBaseUrl === undefined) throw new Error("Twilio receipts enabled without a token or URL");
  return { enabled: true, authToken: twilio.auth.authToken, publicBaseUrl };
}

function telnyxSettings({ telnyxPublicKey, publicBaseUrl }: ReceiptConfig): ReceiptSettings["telnyx"] {
  if (telnyxPublicKey === undefined) {
    return {
      enabled: false,
      reason:
        "Telnyx delivery receipts are off: set TELNYX_PUBLIC_KEY (Mission Control → Keys & Credentials → Public Key) " +
        "to verify Telnyx's signed webhooks",
    };
  }
  if (publicBaseUrl === undefined) {
    return {
      enabled: true,
      publicKey: telnyxPublicKey,
      webhookUrl: undefined,
      // Telnyx falls back to the messaging profile's webhook URL when a message names none
      // (developers.telnyx.com, messaging "receiving webhooks": the URL hierarchy).
      note: `no PUBLIC_BASE_URL, so sends carry no webhook_url: only webhooks the messaging profile sends to ${TELNYX_RECEIPT_PATH} arrive`,
    };
  }
  return { enabled: true, publicKey: telnyxPublicKey, webhookUrl: `${publicBaseUrl}${TELNYX_RECEIPT_PATH}` };
}

export function receiptSettings(config: ReceiptConfig): ReceiptSettings {
  return { publicBaseUrl: config.publicBaseUrl, twilio: twilioSettings(config), telnyx: telnyxSettings(config) };
}

/**
 * The startup line on receipts: per provider in use (and Telnyx whenever its key is set), on or off and why.
 * WARNING when Twilio's or Telnyx's are off: the delivery ratio then counts nothing for it and its alert is blind.
 * SMC has none by design (README, "Salesforce Marketing Cloud: no receipts").
 */
export function receiptsStartupLine(
  settings: ReceiptSettings,
  providers: readonly ProviderName[],
): { severity: Severity; message: string; fields: LogFields } {
  const status: Record<string, string> = {};
  let off = false;
  if (providers.includes("twilio")) {
    off ||= !settings.twilio.enabled;
    status.twilio = settings.twilio.enabled
      ? `on: POST ${TWILIO_RECEIPT_PATH}, each send's StatusCallback under ${settings.twilio.publicBaseUrl}`
      : settings.twilio.reason;
  }
  if (providers.includes("telnyx") || settings.telnyx.enabled) {
    off ||= providers.includes("telnyx") && !settings.telnyx.enabled;
    status.telnyx = settings.telnyx.enabled
      ? `on: POST ${TELNYX_RECEIPT_PATH}, ${settings.telnyx.webhookUrl === undefined ? settings.telnyx.note : `each send's webhook_url is ${settings.telnyx.webhookUrl}`}`
      : settings.telnyx.reason;
  }
  if (providers.includes("smc")) status.smc = "none: MobileConnect pushes no delivery receipts (README)";
  return { severity: off ? "WARNING" : "INFO", message: "delivery receipts", fields: { receipts: status } };
}
