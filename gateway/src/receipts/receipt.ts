import { EVENT_FIELD, LOG_EVENTS, RECEIPT_FIELDS, UNKNOWN_COUNTRY, type ReceiptStatus } from "../logEvents.ts";
import { maskPhone, parseE164 } from "../phone.ts";

/** Every receipt endpoint lives under this path; GATEWAY_PATH may not (config.ts). */
export const RECEIPTS_PREFIX = "/receipts";

/** One verified delivery receipt, normalised across providers. Holds no message text and no full number. */
export interface Receipt {
  provider: "twilio" | "telnyx";
  providerMessageId: string;
  status: ReceiptStatus;
  providerErrorCode: string | undefined;
  /** Seconds from the send to the delivery report; only for `delivered`, and only where the provider tells. */
  deliverySeconds: number | undefined;
  /** ISO alpha-2, or "unknown". */
  country: string;
  /** Masked: calling code and last two digits. */
  destination: string;
}

/**
 * What a verified callback amounts to: a receipt to log, or something the provider may legitimately send to
 * this URL that is not one (an inbound message, a status we do not track) — answered 200 and not logged.
 */
export type CallbackResult = { kind: "receipt"; receipt: Receipt } | { kind: "ignored"; reason: string };

/** Country and masked number of a destination as the provider reports it, without ever keeping the number. */
export function describeDestination(number: string | undefined): { country: string; destination: string } {
  const parsed = number === undefined ? undefined : parseE164(number);
  if (parsed) {
    return { country: parsed.country ?? UNKNOWN_COUNTRY, destination: maskPhone(parsed.e164, parsed.callingCode) };
  }
  // Not a valid E.164 number (a short code, a channel address): mask it all but the last two digits.
  return { country: UNKNOWN_COUNTRY, destination: maskPhone(number ?? "", "") };
}

/** The `sms.receipt` line's fields (logEvents.ts): what infra/observability.ts counts. */
export function receiptLogFields(receipt: Receipt): Record<string, unknown> {
  return {
    [EVENT_FIELD]: LOG_EVENTS.receipt,
    [RECEIPT_FIELDS.provider]: receipt.provider,
    [RECEIPT_FIELDS.providerMessageId]: receipt.providerMessageId,
    [RECEIPT_FIELDS.status]: receipt.status,
    ...(receipt.providerErrorCode !== undefined && { [RECEIPT_FIELDS.providerErrorCode]: receipt.providerErrorCode }),
    ...(receipt.deliverySeconds !== undefined && { [RECEIPT_FIELDS.deliverySeconds]: receipt.deliverySeconds }),
    [RECEIPT_FIELDS.country]: receipt.country,
    [RECEIPT_FIELDS.destination]: receipt.destination,
  };
}

/** Severity of the receipt line: an OTP that did not arrive is worth a warning on its own. */
export function receiptSeverity(status: ReceiptStatus): "INFO" | "WARNING" {
  return status === "undelivered" || status === "failed" ? "WARNING" : "INFO";
}
