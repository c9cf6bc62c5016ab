import { createHash, timingSafeEqual } from "node:crypto";

function digest(value: string): Buffer {
  return createHash("sha256").update(value, "utf8").digest();
}

/**
 * Checks a presented key against every configured key in constant time: comparing fixed-length digests hides
 * the length, and the loop never stops early, so timing does not reveal which key (if any) matched.
 * Several keys are live at once during a rotation.
 */
export function createApiKeyVerifier(keys: readonly string[]): (presented: string | undefined) => boolean {
  const expected = keys.map(digest);
  return function verifyApiKey(presented) {
    const candidate = digest(presented ?? "");
    let ok = false;
    for (const key of expected) ok = timingSafeEqual(candidate, key) || ok;
    return ok && presented !== undefined && presented !== "";
  };
}
