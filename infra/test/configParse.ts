// Parsing a stack's config from plain maps, for the suites that table-test parseConfig's keys.

import { ConfigError, parseConfig, type ConfigSource } from "../config.js";

/** A config namespace from a map; secrets are the same plain strings. */
export function mapSource(values: Record<string, string | undefined>): ConfigSource<string> {
  const get = (k: string) => values[k];
  return { get, getSecret: get };
}

/** A Twilio stack that does not register with Mosaic: the least a valid config needs. */
export const MINIMAL: Record<string, string> = {
  twilioAccountSid: `AC${"a".repeat(32)}`,
  twilioAuthToken: "token",
  twilioFromNumber: "+15551234567",
  registerWithMosaic: "false",
};

export function parseWith(values: Record<string, string | undefined>, base: Record<string, string> = MINIMAL) {
  return parseConfig(mapSource({ ...base, ...values }), mapSource({ project: "p", region: "us-central1" }), "dev");
}

/** Every problem parseConfig reports for these values; throws when it reports none. */
export function problemsOf(values: Record<string, string | undefined>, base: Record<string, string> = MINIMAL): string[] {
  try {
    parseWith(values, base);
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  throw new Error("expected a ConfigError");
}
