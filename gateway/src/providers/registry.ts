import type { GatewayConfig, ProviderName } from "../config.ts";
import type { Logger } from "../log.ts";
import { createLogProvider } from "./log.ts";
import type { SmsProvider } from "./provider.ts";
import { createTwilioProvider } from "./twilio/index.ts";

/** One line per provider: adding one means a module behind SmsProvider and an entry here. */
const FACTORIES: Record<ProviderName, (config: GatewayConfig, logger: Logger) => SmsProvider> = {
  twilio: (config) => createTwilioProvider(config.twilio!, { maxSockets: config.concurrency }),
  log: (_config, logger) => createLogProvider(logger),
};

export function createProvider(config: GatewayConfig, logger: Logger): SmsProvider {
  return FACTORIES[config.provider](config, logger);
}
