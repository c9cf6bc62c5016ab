// The gateway container's environment: the contract between infra and gateway/src, in one pure function.
// Secrets only ever appear as Secret Manager references pinned to a version, never as plain values:
// Cloud Run resolves env secrets when an instance starts, so pinning the version makes a new key roll a new
// revision (source: ../shared/MOSAIC.md, Cloud Run).

import type { GatewayConfig } from "./config.js";

/** A Secret Manager secret (same project: its short id) at one pinned version. `T` is a plain string in tests
 * and a `pulumi.Input<string>` in the component. */
export interface SecretRef<T> {
  secret: T;
  version: T;
}

export type EnvVar<T> =
  | { name: string; value: string }
  | { name: string; valueSource: { secretKeyRef: SecretRef<T> } };

export interface GatewayEnvInputs<T> {
  config: Pick<
    GatewayConfig<unknown>,
    "gcpProject" | "twilioAccountSid" | "twilioSender" | "twilioUseSenderId" | "gatewayPath" | "concurrency"
  >;
  apiKey: SecretRef<T>;
  twilioAuthToken: SecretRef<T>;
}

/** Env names the gateway reads (see the gateway's config module). `PORT` is absent on purpose: Cloud Run sets it
 * and rejects a service that sets it. */
export function gatewayEnv<T>({ config, apiKey, twilioAuthToken }: GatewayEnvInputs<T>): EnvVar<T>[] {
  const sender: EnvVar<T> =
    "messagingServiceSid" in config.twilioSender
      ? { name: "TWILIO_MESSAGING_SERVICE_SID", value: config.twilioSender.messagingServiceSid }
      : { name: "TWILIO_FROM_NUMBER", value: config.twilioSender.fromNumber };
  return [
    { name: "SMS_PROVIDER", value: "twilio" },
    { name: "GATEWAY_PATH", value: config.gatewayPath },
    { name: "GATEWAY_API_KEY", valueSource: { secretKeyRef: apiKey } },
    { name: "TWILIO_ACCOUNT_SID", value: config.twilioAccountSid },
    { name: "TWILIO_AUTH_TOKEN", valueSource: { secretKeyRef: twilioAuthToken } },
    sender,
    { name: "TWILIO_USE_SENDER_ID", value: String(config.twilioUseSenderId) },
    // The provider's connection pool: one socket per request an instance may hold at once.
    { name: "CONCURRENCY", value: String(config.concurrency) },
    // Lets the gateway put `logging.googleapis.com/trace` on its log lines.
    { name: "GOOGLE_CLOUD_PROJECT", value: config.gcpProject },
  ];
}
