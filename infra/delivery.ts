// Which providers deliver the OTPs (issue 10): `smsRoutes` (SMS_ROUTES) or one `smsProvider` for every country,
// `failoverOnUnknown`, and the settings of each provider the routes name — only theirs are read and required, so
// only their secrets are stored. Pure, like config.ts: secrets stay opaque (`S`).
//
// The rules for the values themselves are the gateway's: infra/gatewayCheck.ts hands the environment built from
// this config to gateway/src/config.ts's own parser at preview time, so a table or a setting the gateway would
// refuse at startup is refused before anything deploys, with the message naming the Pulumi key.

import { parseRoutes, providersIn, type RoutedProvider } from "../gateway/src/delivery/routes.js";
import type { ProviderName } from "../gateway/src/providers/provider.js";
import { key, type Reader } from "./configReader.js";

/** `smsProvider`: `log` delivers nothing (a development setting, as in the gateway). */
export const SMS_PROVIDERS = ["twilio", "smc", "telnyx", "log"] as const satisfies readonly ProviderName[];

export interface TwilioSettings<S> {
  accountSid: string;
  authToken: S;
  /** Exactly one of the two (the gateway checks it). */
  fromNumber: string | undefined;
  messagingServiceSid: string | undefined;
  useSenderId: boolean;
}

/** Salesforce Marketing Cloud MobileConnect: the settings Mosaic's own SMC integration takes. */
export interface SmcSettings<S> {
  subdomain: string;
  clientId: string;
  clientSecret: S;
  messageId: string;
  /** `enhanced` (the gateway's default) or `legacy`; undefined leaves the gateway's default. */
  packageType: string | undefined;
  accountId: string | undefined;
  keyword: string | undefined;
}

export interface TelnyxSettings<S> {
  apiKey: S;
  fromNumber: string | undefined;
  messagingProfileId: string | undefined;
}

export interface DeliveryConfig<S> {
  /** SMS_PROVIDER: the one provider for every country when `routes` is undefined. Default `twilio`. */
  provider: ProviderName;
  /** SMS_ROUTES as configured (JSON text); when set, `provider` is not used. */
  routes: string | undefined;
  /** FAILOVER_ON_UNKNOWN. Default false. */
  failoverOnUnknown: boolean;
  /** The settings of each provider the routes (or `provider`) use; undefined for the others. */
  twilio: TwilioSettings<S> | undefined;
  smc: SmcSettings<S> | undefined;
  telnyx: TelnyxSettings<S> | undefined;
}

/** The secret config keys of the providers. */
export const PROVIDER_SECRET_KEYS = ["twilioAuthToken", "smcClientSecret", "telnyxApiKey"] as const;

/**
 * The providers the configuration sends through: those `smsRoutes` names (also when the table has other
 * problems, so their settings are checked in the same run), else `smsProvider`.
 */
export function usedProviders(routes: string | undefined, provider: string): Set<ProviderName> {
  if (routes === undefined) {
    return new Set((SMS_PROVIDERS as readonly string[]).includes(provider) ? [provider as ProviderName] : []);
  }
  const parsed = parseRoutes(routes, { defaultUseSenderId: () => false });
  return parsed.ok ? providersIn(parsed.table) : parsed.providers;
}

/** Reads the delivery keys; problems go to the reader's list. */
export function parseDelivery<S>(r: Reader<S>): DeliveryConfig<S> {
  const routes = r.get("smsRoutes");
  const provider = r.oneOf("smsProvider", SMS_PROVIDERS, "twilio");
  const used = usedProviders(routes, provider);
  // Names the reason a provider's settings are required, as the gateway does ("SMS_ROUTES uses smc").
  const because = (name: RoutedProvider) => (routes === undefined ? ` while ${key("smsProvider")} is ${name}` : ` while ${key("smsRoutes")} uses ${name}`);
  return {
    provider,
    routes,
    failoverOnUnknown: r.boolean("failoverOnUnknown", false),
    twilio: used.has("twilio")
      ? {
          accountSid: r.get("twilioAccountSid") ?? "",
          authToken: r.requiredSecret("twilioAuthToken", because("twilio")) as S,
          fromNumber: r.get("twilioFromNumber"),
          messagingServiceSid: r.get("twilioMessagingServiceSid"),
          useSenderId: r.boolean("twilioUseSenderId", false),
        }
      : undefined,
    smc: used.has("smc")
      ? {
          subdomain: r.get("smcSubdomain") ?? "",
          clientId: r.get("smcClientId") ?? "",
          clientSecret: r.requiredSecret("smcClientSecret", because("smc")) as S,
          messageId: r.get("smcMessageId") ?? "",
          packageType: r.get("smcPackageType"),
          accountId: r.get("smcAccountId"),
          keyword: r.get("smcKeyword"),
        }
      : undefined,
    telnyx: used.has("telnyx")
      ? {
          apiKey: r.requiredSecret("telnyxApiKey", because("telnyx")) as S,
          fromNumber: r.get("telnyxFromNumber"),
          messagingProfileId: r.get("telnyxMessagingProfileId"),
        }
      : undefined,
  };
}
