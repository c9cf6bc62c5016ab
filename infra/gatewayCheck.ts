// The gateway's own startup check, run at preview time: the environment infra is about to deploy goes through
// gateway/src/config.ts `parseConfig` (the one reader of the gateway's environment), and every problem it would
// raise at startup — an SMS_ROUTES table it refuses, a provider setting of the wrong shape, a provider without its
// settings — comes back naming the Pulumi key to fix instead of the variable. One set of rules, in the gateway;
// infra only translates names. Secret values are never looked at: they reach the check as a placeholder.

import { ConfigError as GatewayConfigError, parseConfig as parseGatewayConfig } from "../gateway/src/config.js";
import { key } from "./configReader.js";
import type { EnvVar } from "./gatewayEnv.js";
import { PROTECTION_KEYS } from "./protection.js";

/** Every variable infra sets from a config key, and that key. */
export const ENV_CONFIG_KEYS: Readonly<Record<string, string>> = {
  SMS_PROVIDER: "smsProvider",
  SMS_ROUTES: "smsRoutes",
  FAILOVER_ON_UNKNOWN: "failoverOnUnknown",
  GATEWAY_PATH: "gatewayPath",
  CONCURRENCY: "concurrency",
  TWILIO_ACCOUNT_SID: "twilioAccountSid",
  TWILIO_AUTH_TOKEN: "twilioAuthToken",
  TWILIO_FROM_NUMBER: "twilioFromNumber",
  TWILIO_MESSAGING_SERVICE_SID: "twilioMessagingServiceSid",
  TWILIO_USE_SENDER_ID: "twilioUseSenderId",
  SMC_SUBDOMAIN: "smcSubdomain",
  SMC_CLIENT_ID: "smcClientId",
  SMC_CLIENT_SECRET: "smcClientSecret",
  SMC_MESSAGE_ID: "smcMessageId",
  SMC_PACKAGE_TYPE: "smcPackageType",
  SMC_ACCOUNT_ID: "smcAccountId",
  SMC_KEYWORD: "smcKeyword",
  TELNYX_API_KEY: "telnyxApiKey",
  TELNYX_FROM_NUMBER: "telnyxFromNumber",
  TELNYX_MESSAGING_PROFILE_ID: "telnyxMessagingProfileId",
  OTP_VALIDITY_S: "otpValiditySeconds",
  TELNYX_PUBLIC_KEY: "telnyxPublicKey",
  ...Object.fromEntries(Object.entries(PROTECTION_KEYS).map(([configKey, variable]) => [variable, configKey])),
};

/** What a secret reference stands for in the check: long and plain enough for every secret's shape rule
 * (API keys: 16+ printable characters without a comma; tokens: no spaces; HMAC keys: 32+). */
export const SECRET_PLACEHOLDER = "placeholder-secret-value-0123456789-abcdefghij";

/** What the derived PUBLIC_BASE_URL stands for in the check: an origin, as the service's or the balancer's is. */
export const PUBLIC_BASE_URL_PLACEHOLDER = "https://sms-gateway-placeholder-123456789012.us-central1.run.app";

/** What the Memorystore values stand for in the check, in the shapes the instance gives them. */
export const REDIS_PLACEHOLDER = {
  url: "rediss://10.20.0.3:6378",
  caCert: "-----BEGIN CERTIFICATE-----\nMIIBplaceholder\n-----END CERTIFICATE-----",
};

const NAMES = new RegExp(`\\b(${Object.keys(ENV_CONFIG_KEYS).join("|")})\\b`, "g");

/** A gateway problem with each variable replaced by its config key. One that names no such variable is about a
 * value infra derives itself (a bug here, not in the stack's config), and says so. */
export function translateProblem(problem: string): string {
  const translated = problem.replace(NAMES, (name) => key(ENV_CONFIG_KEYS[name]!));
  if (translated === problem) return `The gateway would refuse the environment this program builds: ${problem}`;
  // "one of X or Y is required" reads as a sentence; a message that starts with a key keeps it as written.
  return translated.startsWith(key("")) ? translated : translated.charAt(0).toUpperCase() + translated.slice(1);
}

/** The problems the gateway would report starting with this environment; empty when it would start. */
export function gatewayProblems(env: readonly EnvVar<string>[]): string[] {
  const record = Object.fromEntries(env.map((e) => [e.name, "value" in e ? e.value : SECRET_PLACEHOLDER]));
  try {
    parseGatewayConfig(record);
    return [];
  } catch (err) {
    if (err instanceof GatewayConfigError) return err.problems.map(translateProblem);
    throw err;
  }
}
