import { randomUUID } from "node:crypto";
import type { Logger } from "../log.ts";
import { maskPhone } from "../phone.ts";
import type { SmsProvider } from "./provider.ts";

/**
 * A development provider: delivers nothing, logs one redacted line (destination masked, body length only)
 * and returns a fake id. For the sandbox and local runs; main.ts warns at startup when it is selected.
 */
export function createLogProvider(logger: Logger): SmsProvider {
  return {
    name: "log",
    async attempt(sms) {
      const id = `log-${randomUUID()}`;
      logger.info("log provider: SMS not delivered (development provider)", {
        provider: "log",
        providerMessageId: id,
        destination: maskPhone(sms.to.e164, sms.to.callingCode),
        bodyLength: sms.body.length,
      });
      return { kind: "sent", id };
    },
  };
}
