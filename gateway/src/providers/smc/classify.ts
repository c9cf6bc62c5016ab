import { isObject, isRedirect, parseJsonBody, parseRetryAfter, safeToken, type HttpAnswer } from "../answer.ts";
import type { SendOutcome } from "../provider.ts";

/**
 * What Salesforce Marketing Cloud's answers mean for the OTP. Pure, table-tested (gateway/test/smc.test.ts).
 * Sources (developer.salesforce.com, mc-apis and the marketing-cloud guide; PROVIDERS.md):
 * - send, `postMessageContactSend`: `202 {"tokenId"}` accepted; `400 {"errors": ["…"]}` refused;
 * - "Handle Errors in REST API": 400 validation (errorcode 10000–10006), 401 token missing, invalid or expired
 *   (errorcode 0), 403 authorization (20000–20002, e.g. the package lacks the sms_send scope);
 * - "Rate Limiting Errors": 429 with errorcode 50100 and `Retry-After: 5`, or 50200 "temporarily blocked";
 * - "Access Token for Server-to-Server Integrations" (`/v2/token`) and the legacy `requestToken` reference.
 * MobileConnect's synchronous errors carry no documented code that singles out the destination (a number that is
 * not subscribed is a delivery-status matter, `deliveries/{tokenId}`), so no SMC answer is `destination_rejected`:
 * another provider may try, and if the number really is invalid it will say so itself. Error texts are never
 * kept: they may quote the number.
 */

export type SmcSendVerdict =
  | SendOutcome
  /** 401 on send: the token expired or was revoked; nothing was queued, so refresh once and send again. */
  | { kind: "token_rejected" };

/** "Rate Limiting Errors": 50100 comes with Retry-After, 50200 (blocked) without. */
export const SMC_RATE_LIMITED = "50100";
export const SMC_BLOCKED = "50200";

function errorCode(body: unknown): string | undefined {
  return isObject(body) ? safeToken(body.errorcode ?? body.errorCode, 12) : undefined;
}

export function classifySmcSend(answer: HttpAnswer): SmcSendVerdict {
  const body = parseJsonBody(answer.body);
  const { status } = answer;
  if (status >= 200 && status < 300) {
    const id = isObject(body) ? safeToken(body.tokenId, 128) : undefined;
    return id === undefined ? { kind: "unknown", reason: `SMC answered ${status} without a tokenId` } : { kind: "sent", id };
  }
  const code = errorCode(body) ?? String(status);
  if (status >= 500) return { kind: "unknown", code, reason: `SMC answered ${status}: the SMS may or may not be sent` };
  if (isRedirect(status)) return { kind: "provider_rejected", code, reason: `SMC answered a redirect (${status}); not followed` };
  if (status < 400) return { kind: "unknown", code, reason: `SMC answered an unexpected ${status}` };
  if (status === 401) return { kind: "token_rejected" };
  if (status === 429) {
    const retryAfterMs =
      parseRetryAfter(answer.headers["retry-after"]) ?? (isObject(body) ? parseRetryAfter(body.retryAfter) : undefined);
    return {
      kind: "provider_rejected",
      code,
      reason: code === SMC_BLOCKED ? "SMC has temporarily blocked our requests" : "SMC is rate limiting",
      throttled: true,
      // 50200 is a block, not a pace: waiting a moment will not lift it.
      ...(code === SMC_BLOCKED ? { noRetry: true } : retryAfterMs !== undefined && { retryAfterMs }),
    };
  }
  const why =
    status === 403
      ? "not authorized (the installed package needs the sms_send scope)"
      : status === 404
        ? "message not found (check SMC_MESSAGE_ID)"
        : `HTTP ${status}`;
  return { kind: "provider_rejected", code, reason: `SMC refused the SMS (${why})` };
}

/** A usable token, and where to send with it. */
export interface SmcToken {
  accessToken: string;
  /** Lifetime the server granted. */
  expiresInMs: number;
  /** `rest_instance_url` of an enhanced package's token, normalised to `https://host` without a trailing slash. */
  restInstanceUrl?: string;
}

export type SmcTokenVerdict = { kind: "token"; token: SmcToken } | Extract<SendOutcome, { kind: "provider_rejected" }>;

/**
 * `rest_instance_url` is documented without a scheme but arrives as `https://…/` (PROVIDERS.md): accept both,
 * and nothing that is not a plain origin.
 */
export function normaliseInstanceUrl(value: unknown): string | undefined {
  if (typeof value !== "string" || value.trim() === "") return undefined;
  const text = value.trim();
  try {
    const url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `https://${text}`);
    if (url.username || url.password || url.search || url.hash) return undefined;
    return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, "")}`;
  } catch {
    return undefined;
  }
}

/**
 * The token endpoint's answer. Every failure here is `provider_rejected`: the SMS itself was never sent, whatever
 * happened to the token request. The reason says what to check; it never repeats the answer (it is a secret when
 * it succeeded, and may echo the client id when it did not).
 */
export function classifySmcToken(answer: HttpAnswer, packageType: "enhanced" | "legacy"): SmcTokenVerdict {
  const body = parseJsonBody(answer.body);
  const { status } = answer;
  if (status === 200 && isObject(body)) {
    const accessToken = packageType === "enhanced" ? body.access_token : body.accessToken;
    const expiresIn = packageType === "enhanced" ? body.expires_in : body.expiresIn;
    if (typeof accessToken === "string" && accessToken !== "" && typeof expiresIn === "number" && expiresIn > 0) {
      const restInstanceUrl = packageType === "enhanced" ? normaliseInstanceUrl(body.rest_instance_url) : undefined;
      return {
        kind: "token",
        token: { accessToken, expiresInMs: expiresIn * 1000, ...(restInstanceUrl !== undefined && { restInstanceUrl }) },
      };
    }
  }
  const code = `token_${status}`;
  // Salesforce throttles clients that ask for tokens too often: no second token request inside this send.
  if (status === 429) {
    return { kind: "provider_rejected", code, reason: "SMC is rate limiting token requests", throttled: true, noRetry: true };
  }
  const why =
    status === 200
      ? "an answer without a token"
      : status === 400 || status === 401
        ? `HTTP ${status}: check SMC_CLIENT_ID, SMC_CLIENT_SECRET, SMC_ACCOUNT_ID and SMC_PACKAGE_TYPE`
        : isRedirect(status)
          ? `a redirect (${status}), not followed`
          : `HTTP ${status}`;
  return { kind: "provider_rejected", code, reason: `SMC token request failed (${why})` };
}
