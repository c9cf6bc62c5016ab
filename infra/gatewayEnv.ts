// The gateway container's environment: the contract between infra and gateway/src, in one pure function.
// Secrets only ever appear as Secret Manager references pinned to a version, never as plain values:
// Cloud Run resolves env secrets when an instance starts, so pinning the version makes a new key roll a new
// revision (source: ../shared/MOSAIC.md, Cloud Run). Variables the configuration leaves at the gateway's default
// are not set, so a stack that sets nothing new deploys the environment it always had.

import type { GatewayConfig } from "./config.js";

/** A Secret Manager secret (same project: its short id) at one pinned version. `T` is a plain string in tests
 * and a `pulumi.Input<string>` in the component. */
export interface SecretRef<T> {
  secret: T;
  version: T;
}

export type EnvVar<T> =
  | { name: string; value: string | T }
  | { name: string; valueSource: { secretKeyRef: SecretRef<T> } };

/** The secrets the gateway reads, each present exactly when the configuration uses it. */
export interface GatewaySecretRefs<T> {
  apiKey: SecretRef<T>;
  twilioAuthToken?: SecretRef<T> | undefined;
  smcClientSecret?: SecretRef<T> | undefined;
  telnyxApiKey?: SecretRef<T> | undefined;
  /** With `sharedState: redis`: the region's Memorystore AUTH string, and the HMAC key every instance shares. */
  redisPassword?: SecretRef<T> | undefined;
  protectionSecret?: SecretRef<T> | undefined;
}

/** The region's Memorystore, with `sharedState: redis`: values known only once it exists. */
export interface RedisEnv<T> {
  /** `rediss://host:port`, without the password. */
  url: string | T;
  /** The server CA certificates, PEM (public: a plain variable). */
  caCert: string | T;
}

export interface GatewayEnvInputs<T> {
  config: Pick<GatewayConfig<unknown>, "gcpProject" | "gatewayPath" | "concurrency" | "delivery" | "protection" | "receipts">;
  secrets: GatewaySecretRefs<T>;
  redis?: RedisEnv<T> | undefined;
  /** PUBLIC_BASE_URL: the origin providers call back (receipts), `https://host` without a path. */
  publicBaseUrl: string | T;
}

/** Env names the gateway reads (see the gateway's config module). `PORT` is absent on purpose: Cloud Run sets it
 * and rejects a service that sets it. */
export function gatewayEnv<T>({ config, secrets, redis, publicBaseUrl }: GatewayEnvInputs<T>): EnvVar<T>[] {
  const { delivery } = config;
  const env: EnvVar<T>[] = [];
  const plain = (name: string, value: string | T | undefined) => value !== undefined && env.push({ name, value });
  const secret = (name: string, ref: SecretRef<T> | undefined) => ref && env.push({ name, valueSource: { secretKeyRef: ref } });

  // The order of the variables that existed before several providers is kept: a reordered list is a new revision.
  plain("SMS_PROVIDER", delivery.provider);
  plain("GATEWAY_PATH", config.gatewayPath);
  secret("GATEWAY_API_KEY", secrets.apiKey);
  const twilio = delivery.twilio;
  if (twilio) {
    plain("TWILIO_ACCOUNT_SID", twilio.accountSid);
    secret("TWILIO_AUTH_TOKEN", secrets.twilioAuthToken);
    plain("TWILIO_MESSAGING_SERVICE_SID", twilio.messagingServiceSid);
    plain("TWILIO_FROM_NUMBER", twilio.fromNumber);
    plain("TWILIO_USE_SENDER_ID", String(twilio.useSenderId));
  }
  // The provider's connection pool: one socket per request an instance may hold at once.
  plain("CONCURRENCY", String(config.concurrency));
  // Lets the gateway put `logging.googleapis.com/trace` on its log lines.
  plain("GOOGLE_CLOUD_PROJECT", config.gcpProject);

  plain("SMS_ROUTES", delivery.routes);
  if (delivery.failoverOnUnknown) plain("FAILOVER_ON_UNKNOWN", "true");
  const smc = delivery.smc;
  if (smc) {
    plain("SMC_SUBDOMAIN", smc.subdomain);
    plain("SMC_CLIENT_ID", smc.clientId);
    secret("SMC_CLIENT_SECRET", secrets.smcClientSecret);
    plain("SMC_MESSAGE_ID", smc.messageId);
    plain("SMC_PACKAGE_TYPE", smc.packageType);
    plain("SMC_ACCOUNT_ID", smc.accountId);
    plain("SMC_KEYWORD", smc.keyword);
  }
  const telnyx = delivery.telnyx;
  if (telnyx) {
    secret("TELNYX_API_KEY", secrets.telnyxApiKey);
    plain("TELNYX_FROM_NUMBER", telnyx.fromNumber);
    plain("TELNYX_MESSAGING_PROFILE_ID", telnyx.messagingProfileId);
  }

  for (const [name, value] of Object.entries(config.protection.settings)) plain(name, value);
  if (redis) {
    plain("REDIS_URL", redis.url);
    secret("REDIS_PASSWORD", secrets.redisPassword);
    plain("REDIS_CA_CERT", redis.caCert);
    secret("PROTECTION_SECRET", secrets.protectionSecret);
  }

  // Delivery receipts: Twilio signs the URL it was given, so the gateway must know the public one (issue 13).
  plain("PUBLIC_BASE_URL", publicBaseUrl);
  plain("OTP_VALIDITY_S", config.receipts.otpValiditySeconds);
  plain("TELNYX_PUBLIC_KEY", config.receipts.telnyxPublicKey);
  return env;
}
