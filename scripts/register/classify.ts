import { ExitCode } from "./exit-codes.ts";

/** Decisions about responses, kept pure so the table tests pin them down. */
export type Outcome =
  | { readonly ok: true }
  | { readonly ok: false; readonly exitCode: ExitCode; readonly message: string; readonly hint?: string };

/** 5xx are transient and retried; 4xx never are (the request itself is wrong, repeating it cannot help). */
export function isTransientStatus(status: number): boolean {
  return status >= 500 && status <= 599;
}

/**
 * Mosaic's error shape is `{"message": string, "error_code": number}` (token OpenAPI; MOSAIC.md).
 * Inference: the PUT uses the same shape. Anything else falls back to the raw text, shortened.
 */
export function mosaicErrorText(body: string): string {
  try {
    const parsed: unknown = JSON.parse(body);
    if (parsed && typeof parsed === "object") {
      const { message, error_code } = parsed as { message?: unknown; error_code?: unknown };
      if (typeof message === "string") {
        return error_code === undefined ? message : `${message} (error_code ${String(error_code)})`;
      }
    }
  } catch {
    // not JSON: use the text
  }
  const text = body.trim().replace(/\s+/g, " ");
  return text.length > 200 ? `${text.slice(0, 200)}…` : text || "(empty body)";
}

export function classifyToken(status: number, body: string): Outcome {
  if (status >= 200 && status < 300) return { ok: true };
  if (isTransientStatus(status)) {
    return { ok: false, exitCode: ExitCode.Network, message: `token endpoint answered ${status} after retries` };
  }
  return {
    ok: false,
    exitCode: ExitCode.CredentialsRefused,
    message: `Mosaic refused the client credentials: ${status} ${mosaicErrorText(body)}`,
    hint: "check MOSAIC_CLIENT_ID / MOSAIC_CLIENT_SECRET and the region (the app must exist in that region's tenant)",
  };
}

export function classifyProviderUpdate(status: number, body: string, mode: "register" | "revert"): Outcome {
  if (status >= 200 && status < 300) return { ok: true };
  if (isTransientStatus(status)) {
    return { ok: false, exitCode: ExitCode.Network, message: `Mosaic answered ${status} after retries` };
  }
  const text = mosaicErrorText(body);
  if (status === 401 || status === 403) {
    return {
      ok: false,
      exitCode: ExitCode.CredentialsRefused,
      message: `Mosaic refused the token for the SMS provider setting: ${status} ${text}`,
      hint: "tenant-level settings need the credentials of a Management Application",
    };
  }
  if (mode === "revert") {
    return {
      ok: false,
      exitCode: ExitCode.RegistrationRefused,
      message: `Mosaic refused to revert to the Default provider: ${status} ${text}`,
      hint: 'the {"provider":"Default"} payload is an inference (not published); revert in the Admin Portal: Settings > SMS provider > Default',
    };
  }
  return {
    ok: false,
    exitCode: ExitCode.RegistrationRefused,
    message: `Mosaic refused the registration or its handshake: ${status} ${text}`,
    hint: "Mosaic could not reach the gateway from the internet, or the gateway did not echo X-Verification-Key for this API key",
  };
}

/** The GET validation challenge with the right key: 200 and `{"key": <X-Verification-Key>}`. */
export function classifyChallenge(status: number, body: string, expectedKey: string): Outcome {
  const fail = (message: string, hint?: string): Outcome =>
    hint === undefined
      ? { ok: false, exitCode: ExitCode.PreflightFailed, message }
      : { ok: false, exitCode: ExitCode.PreflightFailed, message, hint };
  if (status === 401 || status === 403 || status === 400) {
    return fail(
      `the gateway refused the API key (${status})`,
      "GATEWAY_API_KEY must be one of the keys the gateway was started with",
    );
  }
  if (status === 404 || status === 405) {
    return fail(`the gateway has no GET challenge at this URI (${status})`, "GATEWAY_URI must be the full path, e.g. https://host/send-sms");
  }
  if (status !== 200) return fail(`the challenge answered ${status}, expected 200`);
  let echoed: unknown;
  try {
    echoed = (JSON.parse(body) as { key?: unknown } | null)?.key;
  } catch {
    return fail("the challenge answer is not JSON", 'the gateway must answer {"key": "<X-Verification-Key>"}');
  }
  if (echoed !== expectedKey) {
    return fail("the gateway echoed a different verification key", 'the gateway must answer {"key": "<X-Verification-Key>"} with the header it received');
  }
  return { ok: true };
}

/** The same challenge with a wrong key must be refused, or anyone could pass Mosaic's handshake. */
export function classifyWrongKeyChallenge(status: number): Outcome {
  if (status === 401 || status === 403 || status === 400) return { ok: true };
  return {
    ok: false,
    exitCode: ExitCode.PreflightFailed,
    message: `the gateway answered ${status} to a wrong API key, expected 401`,
    hint: "the gateway must check X-API-Key on the GET challenge",
  };
}
