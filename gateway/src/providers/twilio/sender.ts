import type { TwilioConfig } from "../../config.ts";
import type { Destination } from "../../phone.ts";

/** Twilio: 1–11 characters, letters, digits and spaces, at least one letter. */
const ALPHANUMERIC_SENDER = /^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}$/;
/** Countries where alphanumeric sender IDs are not supported (Twilio's international support list). */
const NO_ALPHANUMERIC_SENDER = new Set(["US", "CA", "PR"]);

export interface SenderParams {
  from?: string;
  messagingServiceSid?: string;
}

function alphanumericAllowed(to: Destination): boolean {
  // A +1 number whose region the metadata cannot pin down is treated as US: never risk a rejected OTP.
  if (to.country === undefined) return to.callingCode !== "1";
  return !NO_ALPHANUMERIC_SENDER.has(to.country);
}

/**
 * Who the SMS comes from. Mosaic's sender_id wins only when the operator opted in, it is a valid alphanumeric
 * sender ID, and the destination country accepts one; otherwise the configured number or Messaging Service.
 * With a Messaging Service the alphanumeric ID goes in `From` beside it (Twilio uses it if it is in the pool).
 */
export function chooseSender(
  config: Pick<TwilioConfig, "sender" | "useSenderId">,
  to: Destination,
  senderId: string | undefined,
): SenderParams {
  const alpha =
    config.useSenderId && senderId !== undefined && ALPHANUMERIC_SENDER.test(senderId) && alphanumericAllowed(to)
      ? senderId
      : undefined;
  if (config.sender.kind === "messagingService") {
    return alpha === undefined
      ? { messagingServiceSid: config.sender.messagingServiceSid }
      : { messagingServiceSid: config.sender.messagingServiceSid, from: alpha };
  }
  return { from: alpha ?? config.sender.from };
}
