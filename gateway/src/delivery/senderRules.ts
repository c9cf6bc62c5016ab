import type { Destination } from "../phone.ts";
import type { SenderChoice } from "../providers/provider.ts";

/**
 * Countries whose networks refuse alphanumeric sender ids: the one list the startup check (routes.ts) and the
 * per-send choice below both read. Sources: Twilio's international SMS support list, and Telnyx's
 * "Alphanumeric Sender ID" page ("cannot send to the United States, Canada, or Puerto Rico",
 * developers.telnyx.com/docs/messaging/messages/alphanumeric-sender-id).
 */
export const NO_ALPHANUMERIC_SENDER: ReadonlySet<string> = new Set(["US", "CA", "PR"]);

/**
 * An alphanumeric sender id: 1–11 letters, digits and spaces with at least one letter (the same rule at Twilio and
 * at Telnyx, whose page above states it).
 */
const ALPHANUMERIC = /^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}$/;
const E164 = /^\+[1-9]\d{6,14}$/;
const SHORT_CODE = /^\d{3,8}$/;
const MESSAGING_SERVICE = /^MG[0-9a-fA-F]{32}$/;

export type SenderKind = "e164" | "short_code" | "messaging_service" | "alphanumeric";

/** What a configured sender is, or undefined when it is none of the accepted shapes. */
export function senderKind(sender: string): SenderKind | undefined {
  if (E164.test(sender)) return "e164";
  if (SHORT_CODE.test(sender)) return "short_code";
  if (MESSAGING_SERVICE.test(sender)) return "messaging_service";
  if (ALPHANUMERIC.test(sender)) return "alphanumeric";
  return undefined;
}

export function isAlphanumericSender(sender: string): boolean {
  return ALPHANUMERIC.test(sender);
}

/** Whether the destination accepts an alphanumeric sender. */
export function alphanumericAllowed(to: Destination): boolean {
  // A +1 number whose region the metadata cannot pin down is treated as US: never risk a rejected OTP.
  if (to.country === undefined) return to.callingCode !== "1";
  return !NO_ALPHANUMERIC_SENDER.has(to.country);
}

/** The sender settings of one route entry (routes.ts), as the chain hands them to the sender choice. */
export interface EntrySender {
  from?: string;
  useSenderId: boolean;
}

/**
 * Who the SMS comes from on one attempt. Mosaic's sender_id is used only when the entry opted in, it is a valid
 * alphanumeric id and the destination accepts one. The entry's `from` overrides the provider's default, except an
 * alphanumeric `from` to a destination that refuses it (startup already refuses such routes; a +1 number of unknown
 * region reaching a "*" route is the case left): the provider's default sender is used then.
 */
export function chooseSender(entry: EntrySender, to: Destination, senderId: string | undefined): SenderChoice {
  const allowed = alphanumericAllowed(to);
  const alphanumeric =
    entry.useSenderId && senderId !== undefined && ALPHANUMERIC.test(senderId) && allowed ? senderId : undefined;
  const from = entry.from !== undefined && (allowed || !ALPHANUMERIC.test(entry.from)) ? entry.from : undefined;
  return { ...(alphanumeric !== undefined && { alphanumeric }), ...(from !== undefined && { from }) };
}
