/**
 * How the providers sign the callbacks they send, for the emulators (and tests) to sign theirs the same way.
 * Written from the providers' documentation, independently of the gateway's verifiers, so that a test in which
 * the gateway accepts these signatures checks the two against each other (the gateway verifies Twilio's with the
 * official SDK's validator).
 */
import { createHmac, generateKeyPairSync, sign, type KeyObject } from "node:crypto";

/**
 * X-Twilio-Signature: base64 HMAC-SHA1 keyed with the account auth token over the full URL followed by each POST
 * parameter's name and value, sorted by name (https://www.twilio.com/docs/usage/webhooks/webhooks-security).
 */
export function twilioSignature(authToken: string, url: string, params: Record<string, string>): string {
  const data = Object.keys(params)
    .sort()
    .reduce((acc, name) => acc + name + params[name], url);
  return createHmac("sha1", authToken).update(data, "utf8").digest("base64");
}

export interface TelnyxSigningKey {
  /** As Telnyx shows it in Mission Control and the gateway reads it from TELNYX_PUBLIC_KEY: base64 of 32 bytes. */
  publicKeyBase64: string;
  privateKey: KeyObject;
}

/** A fresh Ed25519 key pair standing in for a Telnyx account's webhook signing key. */
export function generateTelnyxSigningKey(): TelnyxSigningKey {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  const x = publicKey.export({ format: "jwk" }).x;
  if (typeof x !== "string") throw new Error("Ed25519 public key export lacks x");
  return { publicKeyBase64: Buffer.from(x, "base64url").toString("base64"), privateKey };
}

/**
 * The two headers Telnyx adds to a webhook: `telnyx-timestamp` (Unix seconds) and `telnyx-signature-ed25519`,
 * base64 Ed25519 over `{timestamp}|{raw body}` (developers.telnyx.com, receiving webhooks).
 */
export function telnyxSignatureHeaders(
  key: Pick<TelnyxSigningKey, "privateKey">,
  body: string | Buffer,
  timestampSeconds: number,
): { "telnyx-timestamp": string; "telnyx-signature-ed25519": string } {
  const timestamp = String(Math.floor(timestampSeconds));
  const signed = Buffer.concat([Buffer.from(`${timestamp}|`, "utf8"), Buffer.isBuffer(body) ? body : Buffer.from(body, "utf8")]);
  return {
    "telnyx-timestamp": timestamp,
    "telnyx-signature-ed25519": sign(null, signed, key.privateKey).toString("base64"),
  };
}
