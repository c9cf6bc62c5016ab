import type { TwilioConfig } from "../../config.ts";
import { alphanumericAllowed, isAlphanumericSender } from "../../delivery/senderRules.ts";
import type { Destination } from "../../phone.ts";

export interface SenderParams {
  from?: string;
  messagingServiceSid?: string;
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
    config.useSenderId && senderId !== undefined && isAlphanumericSender(senderId) && alphanumericAllowed(to)
      ? senderId
      : undefined;
  if (config.sender.kind === "messagingService") {
    return alpha === undefined
      ? { messagingServiceSid: config.sender.messagingServiceSid }
      : { messagingServiceSid: config.sender.messagingServiceSid, from: alpha };
  }
  return { from: alpha ?? config.sender.from };
}
