import type { TwilioConfig } from "../../config.ts";
import { senderKind } from "../../delivery/senderRules.ts";
import type { SenderChoice } from "../provider.ts";

export interface SenderParams {
  from?: string;
  messagingServiceSid?: string;
}

/**
 * Twilio's sender parameters for one attempt. The route entry's `from` replaces the configured sender (a `MG…`
 * is a Messaging Service); Mosaic's sender_id, when the chain allowed it (delivery/senderRules.ts), goes in `From`
 * — beside the Messaging Service when there is one (Twilio uses it if it is in the service's pool).
 */
export function twilioSender(configured: TwilioConfig["sender"], choice: SenderChoice): SenderParams {
  const base: SenderParams =
    choice.from !== undefined
      ? senderKind(choice.from) === "messaging_service"
        ? { messagingServiceSid: choice.from }
        : { from: choice.from }
      : configured.kind === "messagingService"
        ? { messagingServiceSid: configured.messagingServiceSid }
        : { from: configured.from };
  if (choice.alphanumeric === undefined) return base;
  return base.messagingServiceSid !== undefined
    ? { messagingServiceSid: base.messagingServiceSid, from: choice.alphanumeric }
    : { from: choice.alphanumeric };
}
