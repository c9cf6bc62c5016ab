import { createHmac, randomBytes } from "node:crypto";

/**
 * Store keys derived with HMAC-SHA256 under a per-deployment secret, so that the shared store never holds a
 * phone number or an OTP in clear, and nobody who reads it can test guesses without the secret (phone numbers
 * have too little entropy for a plain hash to hide them). The store names the kind of key in a prefix, so
 * inputs of different kinds (a number, a prefix that looks like a number) cannot meet.
 */
export interface ProtectionKeys {
  /** (number, text) → the dedupe record's key. ARCH.md: HMAC(secret, E.164 + "\n" + message). */
  dedupe(e164: string, message: string): string;
  /** The number alone: the per-number limit's key. */
  number(e164: string): string;
  /** The number without its last 3 digits: the per-prefix limit's key. */
  prefix(e164: string): string;
}

/** The per-prefix limit's grouping: a number range sharing all but the last 3 digits (pumping hits ranges). */
export function numberPrefix(e164: string): string {
  return e164.slice(0, -3);
}

/** `secret` undefined: a random one for this process (the in-memory store; nothing is shared). */
export function createProtectionKeys(secret: string | undefined): ProtectionKeys {
  const key = secret ?? randomBytes(32);
  const mac = (input: string) => createHmac("sha256", key).update(input, "utf8").digest("base64url");
  return {
    dedupe: (e164, message) => mac(`${e164}\n${message}`),
    number: (e164) => mac(e164),
    prefix: (e164) => mac(numberPrefix(e164)),
  };
}
