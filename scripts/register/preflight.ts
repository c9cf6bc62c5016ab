import { randomBytes } from "node:crypto";
import { classifyChallenge, classifyWrongKeyChallenge } from "./classify.ts";
import { ExitCode, RegisterError } from "./exit-codes.ts";
import { RedirectRefused, TransientFailure, requestWithRetry, type HttpDeps } from "./http.ts";

/** A random token shaped like the seed's sample X-Verification-Key ("AbCdZ3hJxx826qTmvwepy"). */
export function randomVerificationKey(): string {
  return randomBytes(16).toString("base64url");
}

/** The headers Mosaic sends on its GET challenge (seed: use_custom_sms_providers.md, step 2). */
export function challengeHeaders(apiKey: string, verificationKey: string): Record<string, string> {
  return {
    accept: "application/json, text/plain, */*",
    "x-api-key": apiKey,
    "x-scheme": "https",
    "x-verification-key": verificationKey,
  };
}

async function challenge(http: HttpDeps, uri: string, apiKey: string, verificationKey: string) {
  try {
    return await requestWithRetry(http, uri, { method: "GET", headers: challengeHeaders(apiKey, verificationKey) });
  } catch (error) {
    if (error instanceof RedirectRefused) {
      throw new RegisterError(
        ExitCode.PreflightFailed,
        "preflight",
        `the gateway's challenge ${error.message} (the API key)`,
        "GATEWAY_URI must be the gateway's own URL, the one that answers the challenge itself",
        { cause: error },
      );
    }
    const reason = error instanceof TransientFailure ? error.message : String(error);
    throw new RegisterError(
      ExitCode.PreflightFailed,
      "preflight",
      `the gateway did not answer the challenge: ${reason}`,
      "is the gateway running and GATEWAY_URI right? (a fresh Cloud Run revision can take a minute)",
      { cause: error },
    );
  }
}

/**
 * Runs Mosaic's validation challenge ourselves before asking Mosaic to, so a broken gateway is explained here
 * rather than as an opaque 4xx from the PUT: the echo must match, and a wrong key must be refused.
 */
export async function preflight(
  http: HttpDeps,
  uri: string,
  apiKey: string,
  randomKey: () => string = randomVerificationKey,
): Promise<void> {
  const verificationKey = randomKey();
  const good = await challenge(http, uri, apiKey, verificationKey);
  const echo = classifyChallenge(good.status, good.body, verificationKey);
  if (!echo.ok) throw new RegisterError(echo.exitCode, "preflight", echo.message, echo.hint);

  const wrongKey = `wrong-${randomKey()}`;
  const bad = await challenge(http, uri, wrongKey, randomKey());
  const refusal = classifyWrongKeyChallenge(bad.status);
  if (!refusal.ok) throw new RegisterError(refusal.exitCode, "preflight", refusal.message, refusal.hint);
}
