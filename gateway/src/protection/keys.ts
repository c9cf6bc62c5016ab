import { createHash, createHmac } from "node:crypto";

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

/**
 * `secret` undefined: the in-memory store, whose keys never leave this process. A key there protects nothing a
 * per-process random HMAC key would (it would sit in the same heap), so the number and its prefix are used as
 * they are and the record's key is a plain SHA-256 (fixed size, no text in clear): HMAC costs ~9 µs a call on
 * Deno 2.9's node:crypto (~1.8 µs on Node 20), three per send, against ~2.4 µs for a hash (issue 12).
 */
export function createProtectionKeys(secret: string | undefined): ProtectionKeys {
  if (secret === undefined) {
    return {
      dedupe: (e164, message) => createHash("sha256").update(`${e164}\n${message}`, "utf8").digest("base64url"),
      number: (e164) => e164,
      prefix: (e164) => numberPrefix(e164),
    };
  }
  const mac = (input: string) => createHmac("sha256", secret).update(input, "utf8").digest("base64url");
  return {
    dedupe: (e164, message) => mac(`${e164}\n${message}`),
    number: (e164) => mac(e164),
    prefix: (e164) => mac(numberPrefix(e164)),
  };
}
