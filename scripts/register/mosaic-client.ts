import { classifyProviderUpdate, classifyToken } from "./classify.ts";
import { ExitCode, RegisterError, type Step } from "./exit-codes.ts";
import { RedirectRefused, TransientFailure, requestWithRetry, type HttpDeps } from "./http.ts";

function networkError(step: Step, what: string, error: unknown): RegisterError {
  if (error instanceof RedirectRefused) {
    return new RegisterError(ExitCode.BadInput, step, `${what}: Mosaic ${error.message}`, "check MOSAIC_BASE_URL / --region: it must be the API's own URL", { cause: error });
  }
  if (error instanceof TransientFailure) {
    return new RegisterError(ExitCode.Network, step, `${what}: ${error.message}`, "check the network and the Mosaic base URL / region, then run again", { cause: error });
  }
  return new RegisterError(ExitCode.Network, step, `${what}: ${String(error)}`, undefined, { cause: error });
}

/**
 * Client-credentials token: `POST {base}/oidc/token`, form-encoded.
 * Source: developer.transmitsecurity.com/guides/user/retrieve_client_tokens (MOSAIC.md, "Tokens").
 */
export async function fetchToken(http: HttpDeps, baseUrl: string, clientId: string, clientSecret: string): Promise<string> {
  let answer;
  try {
    answer = await requestWithRetry(http, `${baseUrl}/oidc/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
      body: new URLSearchParams({ grant_type: "client_credentials", client_id: clientId, client_secret: clientSecret }).toString(),
    });
  } catch (error) {
    throw networkError("token", "could not get a token from Mosaic", error);
  }
  const outcome = classifyToken(answer.status, answer.body);
  if (!outcome.ok) throw new RegisterError(outcome.exitCode, "token", outcome.message, outcome.hint);
  let token: unknown;
  try {
    token = (JSON.parse(answer.body) as { access_token?: unknown }).access_token;
  } catch {
    token = undefined;
  }
  if (typeof token !== "string" || token === "") {
    throw new RegisterError(ExitCode.CredentialsRefused, "token", `Mosaic answered ${answer.status} without an access_token`);
  }
  return token;
}

export type ProviderSetting =
  | { readonly provider: "CustomGateway"; readonly custom_gateway: { readonly uri: string; readonly api_key: string } }
  // Assumption (not published by Mosaic; MOSAIC.md): the Admin Portal's "Default" provider is set over the API
  // with this payload. If Mosaic rejects it, the revert step fails with exit 5 and a hint to use the portal.
  | { readonly provider: "Default" };

/**
 * `PUT {base}/cis/v1/tenantsmsproviders`. For CustomGateway, Mosaic runs the GET challenge against the URI
 * during this request: a 2xx confirms the handshake (seed: use_custom_sms_providers.md, step 3).
 */
export async function putSmsProvider(
  http: HttpDeps,
  baseUrl: string,
  token: string,
  setting: ProviderSetting,
): Promise<{ status: number; attempts: number }> {
  const step: Step = setting.provider === "Default" ? "revert" : "register";
  let answer;
  try {
    answer = await requestWithRetry(http, `${baseUrl}/cis/v1/tenantsmsproviders`, {
      method: "PUT",
      headers: { "content-type": "application/json", accept: "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify(setting),
    });
  } catch (error) {
    throw networkError(step, "could not update the tenant's SMS provider", error);
  }
  const outcome = classifyProviderUpdate(answer.status, answer.body, setting.provider === "Default" ? "revert" : "register");
  if (!outcome.ok) {
    // A 4xx other than 401/403 on a CustomGateway PUT is Mosaic refusing the handshake (or the payload).
    const failedStep: Step = step === "register" && outcome.exitCode === ExitCode.RegistrationRefused ? "confirmed" : step;
    throw new RegisterError(outcome.exitCode, failedStep, outcome.message, outcome.hint);
  }
  return { status: answer.status, attempts: answer.attempts };
}
