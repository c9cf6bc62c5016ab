import { secretSafeUrlProblem, type SmcConfig } from "../../config.ts";
import type { SmsProvider, OutgoingSms, SendOutcome } from "../provider.ts";
import { retryDeps, retryWhileThrottled, type RetryDeps } from "../retry.ts";
import { sendClassified, type AttemptLimits, type HttpTransport } from "../transport.ts";
import { classifySmcSend, classifySmcToken, type SmcToken, type SmcTokenVerdict } from "./classify.ts";
import { createTokenCache } from "./token.ts";

/**
 * Salesforce Marketing Cloud MobileConnect, with the settings Mosaic's own SMC integration takes. One send is
 * `POST {rest}/sms/v1/messageContact/{SMC_MESSAGE_ID}/send` with the number as digits only, `override: true` and
 * the OTP as `messageText` (`postMessageContactSend`); `202 {"tokenId"}` is the provider id. The access token comes
 * from the shared cache (token.ts); a send answered 401 refreshes it once and is sent again — nothing was queued.
 * SMC sends from the short or long code configured on the MobileConnect message: routes.ts refuses `from` and
 * `use_sender_id` on smc entries, and the sender choice is ignored here.
 *
 * No `lookup` (issue 11): MobileConnect reports on a send only by the `tokenId` its 202 carried
 * (`GET /sms/v1/messageContact/{messageId}/deliveries/{tokenId}`, PROVIDERS.md); when that answer was lost there is
 * nothing to ask by, and no endpoint lists sends by number. A repeat falls to ON_UNKNOWN_REPEAT.
 */

export interface SmcProviderOptions extends Partial<RetryDeps> {
  /** Shared by every provider of the instance (registry.ts), which closes it. */
  transport: HttpTransport;
}

/** The MobileConnect send body. `subscribe`/`resubscribe` need a keyword, so they go only with SMC_KEYWORD. */
export function smcMessage(config: SmcConfig, sms: OutgoingSms) {
  return {
    mobileNumbers: [sms.to.e164.slice(1)],
    override: true,
    messageText: sms.body,
    ...(config.keyword !== undefined && { subscribe: true, resubscribe: true, keyword: config.keyword }),
  };
}

/** The token request of either package type (PROVIDERS.md: `access-token-s2s`, `requestToken`). */
export function smcTokenRequest(config: SmcConfig): { url: URL; body: string } {
  if (config.packageType === "legacy") {
    return {
      url: new URL(`${config.authBaseUrl}/v1/requestToken`),
      body: JSON.stringify({ clientId: config.clientId, clientSecret: config.clientSecret }),
    };
  }
  return {
    url: new URL(`${config.authBaseUrl}/v2/token`),
    body: JSON.stringify({
      grant_type: "client_credentials",
      client_id: config.clientId,
      client_secret: config.clientSecret,
      ...(config.accountId !== undefined && { account_id: config.accountId }),
    }),
  };
}

const JSON_HEADERS = { "Content-Type": "application/json", Accept: "application/json" };

export function createSmcProvider(config: SmcConfig, options: SmcProviderOptions): SmsProvider {
  const deps = retryDeps(options);
  const { transport } = options;
  const tokenRequest = smcTokenRequest(config);
  const defaultRest = `https://${config.subdomain}.rest.marketingcloudapis.com`;
  const path = `/sms/v1/messageContact/${encodeURIComponent(config.messageId)}/send`;

  const tokens = createTokenCache({
    now: deps.now,
    fetchToken: (signal): Promise<SmcTokenVerdict> =>
      sendClassified(
        transport,
        "SMC",
        { url: tokenRequest.url, method: "POST", headers: JSON_HEADERS, body: tokenRequest.body },
        { signal, startBy: Number.POSITIVE_INFINITY },
        (answer) => classifySmcToken(answer, config.packageType),
        // Whatever happened to the token request, the SMS was not sent: never "unknown" here.
      ).then((verdict) =>
        verdict.kind === "unknown" ? { kind: "provider_rejected", code: "token_network", reason: "SMC token request failed" } : verdict,
      ),
  });

  /** Where to send with this token: the override, the token's instance, else the subdomain's REST host. */
  function restUrl(token: SmcToken): URL | Extract<SendOutcome, { kind: "provider_rejected" }> {
    const base = config.restBaseUrl ?? token.restInstanceUrl ?? defaultRest;
    // The bearer token goes there: the same rule as for configured base URLs (https, http only on loopback).
    if (secretSafeUrlProblem(base) !== undefined) {
      return { kind: "provider_rejected", code: "rest_instance_url", reason: "SMC's token names a REST host that is not https" };
    }
    return new URL(`${base}${path}`);
  }

  function sendOnce(token: SmcToken, body: string, limits: AttemptLimits) {
    const url = restUrl(token);
    if (!(url instanceof URL)) return Promise.resolve(url);
    const headers = { ...JSON_HEADERS, Authorization: `Bearer ${token.accessToken}` };
    return sendClassified(transport, "SMC", { url, method: "POST", headers, body }, limits, classifySmcSend);
  }

  async function request(body: string, limits: AttemptLimits): Promise<SendOutcome> {
    const first = await tokens.get(limits.signal, limits.startBy);
    if (!("token" in first)) return first;
    const outcome = await sendOnce(first.token, body, limits);
    if (outcome.kind !== "token_rejected") return outcome;
    // 401: the token expired or was revoked, nothing was queued (PROVIDERS.md). Once: a fresh token, the same send.
    tokens.invalidate(first.token);
    const second = await tokens.get(limits.signal, limits.startBy);
    if (!("token" in second)) return second;
    const retried = await sendOnce(second.token, body, limits);
    return retried.kind === "token_rejected"
      ? { kind: "provider_rejected", code: "401", reason: "SMC refused a freshly issued token (check the package's sms_send scope)" }
      : retried;
  }

  return {
    name: "smc",
    attempt(sms, ctx) {
      const body = JSON.stringify(smcMessage(config, sms));
      return retryWhileThrottled((limits) => request(body, limits), ctx, deps);
    },
  };
}
