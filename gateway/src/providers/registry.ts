import type { GatewayConfig } from "../config.ts";
import { providersIn } from "../delivery/routes.ts";
import type { Logger } from "../log.ts";
import { createLogProvider } from "./log.ts";
import type { SmsProvider, ProviderName } from "./provider.ts";
import { createSmcProvider } from "./smc/index.ts";
import { createTelnyxProvider } from "./telnyx/index.ts";
import { createHttpTransport, type HttpTransport } from "./transport.ts";
import { createTwilioProvider } from "./twilio/index.ts";

type Factory = (config: GatewayConfig, deps: { transport: HttpTransport; logger: Logger }) => SmsProvider;

/** One line per provider: adding one means a module behind SmsProvider and an entry here. */
const FACTORIES: Record<ProviderName, Factory> = {
  // config.ts parsed the settings of every provider the routes name: the `!` holds by construction.
  // Receipts: the callback URLs go on a send only when the endpoint they name is mounted (receipts/settings.ts).
  twilio: (config, { transport }) => {
    const receipts = config.receipts.twilio;
    return createTwilioProvider(config.twilio!, {
      transport,
      validityPeriodS: config.otpValiditySeconds,
      statusCallbackBaseUrl: receipts.enabled ? receipts.publicBaseUrl : undefined,
    });
  },
  smc: (config, { transport }) => createSmcProvider(config.smc!, { transport }),
  telnyx: (config, { transport }) => {
    const receipts = config.receipts.telnyx;
    return createTelnyxProvider(config.telnyx!, { transport, webhookUrl: receipts.enabled ? receipts.webhookUrl : undefined });
  },
  log: (_config, { logger }) => createLogProvider(logger),
};

export interface ProviderSet {
  /** Every provider the routes name, built once. */
  readonly providers: ReadonlyMap<ProviderName, SmsProvider>;
  /** Loads what first sends would otherwise wait for (the Twilio SDK). */
  warmUp(): Promise<void>;
  /** Releases the pooled connections on shutdown. */
  close(): void;
}

/**
 * The providers the routes use, sharing one HTTP transport: one keep-alive pool per instance, sized to the
 * gateway's concurrency per provider host (node:http's `maxSockets` is per origin).
 */
export function createProviders(config: GatewayConfig, logger: Logger): ProviderSet {
  const transport = createHttpTransport({ maxSockets: config.concurrency });
  const providers = new Map<ProviderName, SmsProvider>();
  for (const name of providersIn(config.routes)) providers.set(name, FACTORIES[name](config, { transport, logger }));
  return {
    providers,
    async warmUp() {
      await Promise.all([...providers.values()].map((p) => p.warmUp?.()));
    },
    close: () => transport.close(),
  };
}
