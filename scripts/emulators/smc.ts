import { randomBytes, randomUUID } from "node:crypto";
import {
  answerTransportFault,
  bearerToken,
  faultQueue,
  startFakeHttp,
  type FakeHttpOptions,
  type FakeResponder,
  type TransportFault,
} from "./fakeHttp.ts";

/**
 * A local stand-in for Salesforce Marketing Cloud as the gateway uses it (PROVIDERS.md, developer.salesforce.com):
 * - `POST /v2/token` (enhanced packages: `grant_type`, `client_id`, `client_secret`, optional `account_id` →
 *   `access_token`, `expires_in`, `rest_instance_url`) and `POST /v1/requestToken` (legacy: `clientId`,
 *   `clientSecret` → `accessToken`, `expiresIn`);
 * - `POST /sms/v1/messageContact/{messageId}/send` with `Authorization: Bearer` → `202 {"tokenId"}`.
 * Auth and REST share this one server (the token's `rest_instance_url` points back at it). It counts token
 * requests and sends separately, can revoke every token it issued (the next send gets the 401 a real expiry
 * gives), and injects faults on either endpoint.
 */

export type SmcFault =
  | TransportFault
  /** An MC error: `{"message", "errorcode"}`, or for a 400 MobileConnect's `{"errors": [...]}`. */
  | { kind: "error"; status: number; errorcode?: number }
  /** 429, errorcode 50100 with Retry-After (default 5 s, as documented), or 50200 (blocked) without. */
  | { kind: "rateLimit"; blocked?: boolean; retryAfterSeconds?: number }
  /** A 202 without tokenId (send) or a 200 without a token (token endpoints). */
  | { kind: "noId" };

export interface SmcTokenRequest {
  endpoint: "/v2/token" | "/v1/requestToken";
  clientId: string | null;
  accountId: string | null;
  /** Whether the client secret matched (the secret itself is not kept). */
  secretMatched: boolean;
  answeredWith: number | "hang" | "reset";
}

export interface SmcSend {
  messageId: string;
  mobileNumbers: unknown;
  messageText: string | null;
  override: unknown;
  subscribe: unknown;
  resubscribe: unknown;
  keyword: unknown;
  answeredWith: number | "hang" | "reset";
}

export interface FakeSmc {
  url: string;
  port: number;
  readonly tokenRequests: SmcTokenRequest[];
  readonly sends: SmcSend[];
  readonly connections: number;
  /** Faults for the token endpoints and for sends, each its own queue. */
  tokenFaults: { enqueue(...f: SmcFault[]): void; always(f: SmcFault | undefined): void };
  sendFaults: { enqueue(...f: SmcFault[]): void; always(f: SmcFault | undefined): void };
  /** Every token issued so far is refused from now on (401 on send), as after an expiry or a revocation. */
  revokeTokens(): void;
  reset(): void;
  close(): Promise<void>;
}

export interface FakeSmcOptions extends FakeHttpOptions {
  clientId: string;
  clientSecret: string;
  /** The encoded MobileConnect message id the send path accepts. */
  messageId: string;
  /** `expires_in` of issued tokens, seconds. Default 1079 (what Salesforce sends, PROVIDERS.md). */
  tokenLifetimeSeconds?: number;
}

const SEND_PATH = /^\/sms\/v1\/messageContact\/([^/]+)\/send$/;
const str = (v: unknown): string | null => (typeof v === "string" ? v : null);

function mcError(status: number, errorcode: number | undefined) {
  if (status === 400) return { errors: ["The request is invalid"] };
  // "Handle Errors in REST API": 401 carries errorcode 0; others theirs, when the fault names one.
  const code = errorcode ?? (status === 401 ? 0 : undefined);
  return { message: `Error ${status}`, ...(code !== undefined && { errorcode: code }), documentation: "" };
}

export async function startFakeSmc(options: FakeSmcOptions): Promise<FakeSmc> {
  const tokenRequests: SmcTokenRequest[] = [];
  const sends: SmcSend[] = [];
  const tokenFaults = faultQueue<SmcFault>();
  const sendFaults = faultQueue<SmcFault>();
  const valid = new Set<string>();
  let url = "";

  function answerFault(fault: SmcFault | undefined, res: FakeResponder, ok: number) {
    if (!fault) return undefined;
    if (answerTransportFault(fault, res, ok)) {
      return fault.kind === "hang" ? "hang" : fault.kind === "reset" ? "reset" : fault.kind === "redirect" ? fault.status : ok;
    }
    switch (fault.kind) {
      case "error":
        res.json(fault.status, mcError(fault.status, fault.errorcode));
        return fault.status;
      case "rateLimit":
        if (fault.blocked) {
          res.json(429, { message: "Your requests are temporarily blocked.", errorcode: 50200 });
        } else {
          const seconds = fault.retryAfterSeconds ?? 5;
          res.json(429, { message: "Rate limit exceeded", errorcode: 50100, retryAfter: seconds }, { "Retry-After": String(seconds) });
        }
        return 429;
      case "noId":
        res.json(ok, {});
        return ok;
      default:
        return undefined;
    }
  }

  const server = await startFakeHttp(options, (req, res) => {
    const body = (typeof req.json === "object" && req.json !== null ? req.json : {}) as Record<string, unknown>;
    if (req.method === "POST" && (req.path === "/v2/token" || req.path === "/v1/requestToken")) {
      const enhanced = req.path === "/v2/token";
      const clientId = str(enhanced ? body.client_id : body.clientId);
      const secretMatched = (enhanced ? body.client_secret : body.clientSecret) === options.clientSecret;
      const record = (answeredWith: SmcTokenRequest["answeredWith"]) =>
        tokenRequests.push({ endpoint: req.path as SmcTokenRequest["endpoint"], clientId, accountId: str(body.account_id), secretMatched, answeredWith });
      const faulted = answerFault(tokenFaults.next(), res, 200);
      if (faulted !== undefined) return record(faulted);
      if ((enhanced && body.grant_type !== "client_credentials") || clientId !== options.clientId || !secretMatched) {
        record(401);
        return res.json(401, { error: "invalid_client", error_description: "Client authentication failed." });
      }
      const token = `fake-smc-token-${randomBytes(12).toString("hex")}`;
      valid.add(token);
      record(200);
      return enhanced
        ? res.json(200, {
            access_token: token,
            token_type: "Bearer",
            expires_in: options.tokenLifetimeSeconds ?? 1079,
            scope: "sms_read sms_send sms_write",
            rest_instance_url: `${url}/`,
            soap_instance_url: `${url}/soap/`,
          })
        : res.json(200, { accessToken: token, expiresIn: options.tokenLifetimeSeconds ?? 3600 });
    }

    const match = req.method === "POST" ? SEND_PATH.exec(req.path) : null;
    if (!match) return res.json(404, { message: "Not Found", errorcode: 404 });
    const record = (answeredWith: SmcSend["answeredWith"]) =>
      sends.push({
        messageId: decodeURIComponent(match[1]!),
        mobileNumbers: body.mobileNumbers,
        messageText: str(body.messageText),
        override: body.override,
        subscribe: body.subscribe,
        resubscribe: body.resubscribe,
        keyword: body.keyword,
        answeredWith,
      });
    const token = bearerToken(req.headers);
    if (token === undefined || !valid.has(token)) {
      record(401);
      return res.json(401, { message: "Not Authorized", errorcode: 0, documentation: "" });
    }
    const faulted = answerFault(sendFaults.next(), res, 202);
    if (faulted !== undefined) return record(faulted);
    if (decodeURIComponent(match[1]!) !== options.messageId) {
      record(404);
      return res.json(404, { message: "Message not found", errorcode: 404 });
    }
    const numbers = body.mobileNumbers;
    const badNumbers = !Array.isArray(numbers) || numbers.length === 0 || !numbers.every((n) => typeof n === "string" && /^\d{6,15}$/.test(n));
    const badOverride = body.override === true && typeof body.messageText !== "string";
    const badKeyword = (body.subscribe === true || body.resubscribe === true) && typeof body.keyword !== "string";
    if (badNumbers || badOverride || badKeyword) {
      record(400);
      return res.json(400, { errors: [badNumbers ? "mobileNumbers must be digits with the country code" : badOverride ? "messageText is required with override" : "keyword is required with subscribe"] });
    }
    record(202);
    return res.json(202, { tokenId: randomUUID().replace(/-/g, "").slice(0, 24) });
  });
  url = server.url;

  return {
    url,
    port: server.port,
    tokenRequests,
    sends,
    get connections() {
      return server.connections;
    },
    tokenFaults: { enqueue: (...f) => tokenFaults.enqueue(...f), always: (f) => tokenFaults.always(f) },
    sendFaults: { enqueue: (...f) => sendFaults.enqueue(...f), always: (f) => sendFaults.always(f) },
    revokeTokens: () => valid.clear(),
    reset() {
      tokenRequests.length = 0;
      sends.length = 0;
      tokenFaults.clear();
      sendFaults.clear();
    },
    close: () => server.close(),
  };
}
