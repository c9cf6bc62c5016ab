// Operations (issue 13): delivery receipts' settings for the gateway (OTP_VALIDITY_S, TELNYX_PUBLIC_KEY; the
// public base URL is derived, see smsGateway.ts) and the Observability component's switch, e-mail and alert
// thresholds. Pure, like config.ts; the thresholds' rules are observabilityModel.ts's own, named here by key.

import { key, type Reader } from "./configReader.js";
import { DEFAULT_THRESHOLDS, thresholdProblems, type ObservabilityThresholds } from "./observabilityModel.js";

/** Each alert threshold and the config key that sets it. */
export const THRESHOLD_KEYS: Record<keyof ObservabilityThresholds, string> = {
  sendErrorRatio: "alertSendErrorRatio",
  deliveryRatio: "alertDeliveryRatio",
  sendLatencyP99Ms: "alertLatencyP99Ms",
  unauthorizedPer5Min: "alertUnauthorizedPer5Min",
  minVolume: "alertMinVolume",
};

export interface ObservabilityConfig {
  /** Metrics, alerts, uptime check and dashboard. Default true. */
  enabled: boolean;
  /** Where alerts are e-mailed; none by default (incidents still open in the console). */
  alertEmail: string | undefined;
  /** Each at its default (observabilityModel.ts DEFAULT_THRESHOLDS) unless set. */
  thresholds: ObservabilityThresholds;
}

export interface ReceiptsConfig {
  /** OTP_VALIDITY_S as configured (default 600, the gateway's own); the gateway checks its range. */
  otpValiditySeconds: string;
  /** TELNYX_PUBLIC_KEY: a public key, so a plain value; Telnyx receipts are off without it. */
  telnyxPublicKey: string | undefined;
}

const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

export function parseObservability<S>(r: Reader<S>): ObservabilityConfig {
  const enabled = r.boolean("observability", true);
  const alertEmail = r.get("alertEmail");
  if (alertEmail !== undefined && !EMAIL.test(alertEmail)) r.problems.push(`${key("alertEmail")} must be an e-mail address (got "${alertEmail}")`);
  const thresholds = { ...DEFAULT_THRESHOLDS };
  for (const [field, name] of Object.entries(THRESHOLD_KEYS) as [keyof ObservabilityThresholds, string][]) {
    thresholds[field] = r.number(name, DEFAULT_THRESHOLDS[field], () => true, "a number");
  }
  // The component's own rules ("sendErrorRatio must be a ratio…"), with the field named by its key.
  for (const problem of thresholdProblems(thresholds)) {
    const field = problem.split(" ")[0] as keyof ObservabilityThresholds;
    r.problems.push(`${key(THRESHOLD_KEYS[field])}${problem.slice(field.length)}`);
  }
  return { enabled, alertEmail, thresholds };
}

export function parseReceipts<S>(r: Reader<S>): ReceiptsConfig {
  return { otpValiditySeconds: r.get("otpValiditySeconds") ?? "600", telnyxPublicKey: r.get("telnyxPublicKey") };
}
