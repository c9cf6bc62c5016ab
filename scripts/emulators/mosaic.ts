/**
 * A local stand-in for the parts of Mosaic (Transmit Security) the gateway meets: the client-credentials token
 * endpoint, `PUT /cis/v1/tenantsmsproviders` with the real GET validation challenge, and a "send OTP" action
 * that POSTs to the registered gateway as Mosaic does. Facts and inferences: ../shared/MOSAIC.md and the seed
 * use_custom_sms_providers.md. Start it with `startMosaicEmulator()` (port 0 by default) or run this file.
 */
import { randomBytes, randomInt, timingSafeEqual } from "node:crypto";
import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { pathToFileURL } from "node:url";
import { challengeHeaders } from "../register/preflight.ts";

export interface MosaicEmulatorOptions {
  readonly clientId: string;
  readonly clientSecret: string;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 0 (any free port). */
  readonly port?: number;
  /** Timeout of the GET challenge Mosaic runs during the PUT. Default 3000 ms (inference: as its webhooks). */
  readonly challengeTimeoutMs?: number;
  /** Timeout of each SMS POST. Default 3000 ms: Mosaic's webhooks time out after 3 s (guides/user/how_webhooks_work). */
  readonly sendTimeoutMs?: number;
  /** Extra attempts after a timeout, network error or 5xx. Default 2: Mosaic's webhooks are retried up to 2 more times. */
  readonly sendRetries?: number;
  /** Pause between SMS attempts. Default 200 ms. */
  readonly sendRetryDelayMs?: number;
  /** Event lines for a human (never keys or message text). Default: silent. */
  readonly log?: (line: string) => void;
}

export type ProviderState =
  | { readonly provider: "Default" }
  | { readonly provider: "CustomGateway"; readonly uri: string; readonly apiKey: string };

export interface SendOtpInput {
  readonly phone_number: string;
  /** The app name in the message template. Default "Acme". */
  readonly app?: string;
  /** Optional in Mosaic's OTP APIs, ≤ 11 characters; sent as "" when absent. */
  readonly sender_id?: string;
}

export interface SendOtpResult {
  readonly delivered: boolean;
  readonly attempts: number;
  /** Last HTTP status from the gateway, if any answered. */
  readonly status?: number;
  /** Last response body from the gateway, parsed when JSON. */
  readonly response?: unknown;
  readonly error?: string;
  /** The fake OTP and the message sent (the emulator's own data; a real Mosaic never reveals them). */
  readonly otp: string;
  readonly message: string;
}

export type FaultRoute = "token" | "providers";

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly status: number;
}

export interface MosaicEmulator {
  readonly url: string;
  /** The tenant's current SMS provider. */
  provider(): ProviderState;
  /** Answers the next `times` requests on `route` with `status` (default 500) before handling them. */
  failNext(route: FaultRoute, times: number, status?: number): void;
  /** Sends one OTP SMS through the registered custom gateway, as Mosaic would. */
  sendOtp(input: SendOtpInput): Promise<SendOtpResult>;
  /** Every request the emulator answered, in order. */
  readonly requests: readonly RecordedRequest[];
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const MAX_BODY = 64 * 1024;

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        reject(new HttpError(413, "request body too large"));
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

interface ChallengeAnswer {
  readonly status: number;
  readonly body: string;
}

/**
 * The GET challenge exactly as the seed shows it: Accept, content-length: 0, X-API-Key, X-Scheme: https and a
 * random X-Verification-Key. node:http rather than fetch, because fetch will not send an explicit content-length.
 */
export function runChallenge(uri: string, apiKey: string, verificationKey: string, timeoutMs: number): Promise<ChallengeAnswer> {
  return new Promise((resolve, reject) => {
    const url = new URL(uri);
    const client = url.protocol === "https:" ? https : http;
    const req = client.request(
      url,
      {
        method: "GET",
        headers: { ...challengeHeaders(apiKey, verificationKey), "content-length": "0" },
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`timed out after ${timeoutMs} ms`)));
    req.on("error", reject);
    req.end();
  });
}

function errorBody(status: number, message: string): string {
  // Mosaic's general error shape (MOSAIC.md); inference that the PUT uses it too.
  return JSON.stringify({ message, error_code: status });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startMosaicEmulator(options: MosaicEmulatorOptions): Promise<MosaicEmulator> {
  const host = options.host ?? "127.0.0.1";
  const challengeTimeoutMs = options.challengeTimeoutMs ?? 3000;
  const sendTimeoutMs = options.sendTimeoutMs ?? 3000;
  const sendRetries = options.sendRetries ?? 2;
  const sendRetryDelayMs = options.sendRetryDelayMs ?? 200;
  const log = options.log ?? (() => undefined);
  const tokens = new Set<string>();
  const faults: Record<FaultRoute, { times: number; status: number }> = {
    token: { times: 0, status: 500 },
    providers: { times: 0, status: 500 },
  };
  let state: ProviderState = { provider: "Default" };
  const requests: RecordedRequest[] = [];

  function takeFault(route: FaultRoute): number | undefined {
    const fault = faults[route];
    if (fault.times <= 0) return undefined;
    fault.times--;
    return fault.status;
  }

  async function handleToken(req: http.IncomingMessage): Promise<[number, unknown]> {
    const type = req.headers["content-type"] ?? "";
    if (!type.startsWith("application/x-www-form-urlencoded")) {
      throw new HttpError(400, "content-type must be application/x-www-form-urlencoded");
    }
    const form = new URLSearchParams(await readBody(req));
    if (form.get("grant_type") !== "client_credentials") throw new HttpError(400, "unsupported grant_type");
    const id = form.get("client_id");
    const secret = form.get("client_secret");
    if (!id || !secret) throw new HttpError(400, "client_id and client_secret are required");
    if (!safeEqual(id, options.clientId) || !safeEqual(secret, options.clientSecret)) {
      throw new HttpError(401, "invalid client credentials");
    }
    const token = randomBytes(24).toString("base64url");
    tokens.add(token);
    log("token: issued a client-credentials token");
    return [200, { access_token: token, token_type: "Bearer", expires_in: 3600, scope: "" }];
  }

  async function handleProviders(req: http.IncomingMessage): Promise<[number, unknown]> {
    const auth = req.headers.authorization ?? "";
    const match = /^Bearer\s*(\S+)$/i.exec(auth);
    if (!match || !tokens.has(match[1]!)) throw new HttpError(401, "invalid or missing bearer token");
    let body: { provider?: unknown; custom_gateway?: { uri?: unknown; api_key?: unknown } };
    try {
      body = JSON.parse(await readBody(req)) as typeof body;
    } catch {
      throw new HttpError(400, "body must be JSON");
    }
    if (body?.provider === "Default") {
      state = { provider: "Default" };
      log("tenantsmsproviders: provider set to Default");
      return [200, { provider: "Default" }];
    }
    if (body?.provider !== "CustomGateway") throw new HttpError(400, "provider must be CustomGateway or Default");
    const uri = body.custom_gateway?.uri;
    const apiKey = body.custom_gateway?.api_key;
    if (typeof uri !== "string" || typeof apiKey !== "string" || uri === "" || apiKey === "") {
      throw new HttpError(400, "custom_gateway.uri and custom_gateway.api_key are required");
    }
    try {
      new URL(uri);
    } catch {
      throw new HttpError(400, "custom_gateway.uri is not a URL");
    }
    const verificationKey = randomBytes(16).toString("base64url");
    let answer: ChallengeAnswer;
    try {
      answer = await runChallenge(uri, apiKey, verificationKey, challengeTimeoutMs);
    } catch (error) {
      log(`tenantsmsproviders: challenge could not reach the gateway (${(error as Error).message})`);
      throw new HttpError(400, "custom gateway validation failed: the gateway could not be reached");
    }
    let echoed: unknown;
    try {
      echoed = (JSON.parse(answer.body) as { key?: unknown })?.key;
    } catch {
      echoed = undefined;
    }
    if (answer.status !== 200 || echoed !== verificationKey) {
      log(`tenantsmsproviders: challenge failed (gateway answered ${answer.status})`);
      throw new HttpError(400, `custom gateway validation failed: the gateway answered ${answer.status} without the verification key`);
    }
    state = { provider: "CustomGateway", uri, apiKey };
    log(`tenantsmsproviders: challenge passed, provider set to CustomGateway ${uri}`);
    return [200, { provider: "CustomGateway", custom_gateway: { uri } }];
  }

  async function sendOtp(input: SendOtpInput): Promise<SendOtpResult> {
    const otp = String(randomInt(0, 1_000_000)).padStart(6, "0");
    // Mosaic's sample template (MOSAIC.md): a custom one must contain {otp} and {app}.
    const message = `Your ${input.app ?? "Acme"} verification code is: ${otp}`;
    const current = state;
    if (current.provider !== "CustomGateway") {
      return { delivered: false, attempts: 0, error: "no custom gateway is registered", otp, message };
    }
    const payload = JSON.stringify({ phone_number: input.phone_number, sender_id: input.sender_id ?? "", message });
    let attempts = 0;
    let last: { status?: number; response?: unknown; error?: string } = {};
    while (attempts <= sendRetries) {
      attempts++;
      try {
        const res = await fetch(current.uri, {
          method: "POST",
          headers: { "content-type": "application/json", "x-api-key": current.apiKey },
          body: payload,
          signal: AbortSignal.timeout(sendTimeoutMs),
        });
        const text = await res.text();
        let response: unknown = text;
        try {
          response = JSON.parse(text);
        } catch {
          // keep the text
        }
        last = { status: res.status, response };
        log(`send-otp: attempt ${attempts} → ${res.status}`);
        if (res.status < 500) break; // 2xx delivered; 4xx will not improve on a retry
      } catch (error) {
        const reason = (error as Error).name === "TimeoutError" ? `timed out after ${sendTimeoutMs} ms` : (error as Error).message;
        last = { error: reason };
        log(`send-otp: attempt ${attempts} failed (${reason})`);
      }
      if (attempts <= sendRetries) await sleep(sendRetryDelayMs);
    }
    const delivered = last.status !== undefined && last.status >= 200 && last.status < 300;
    return { delivered, attempts, ...last, otp, message };
  }

  async function route(req: http.IncomingMessage): Promise<[number, unknown]> {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    if (path === "/oidc/token") {
      if (req.method !== "POST") throw new HttpError(405, "method not allowed");
      const fault = takeFault("token");
      if (fault !== undefined) throw new HttpError(fault, "injected fault");
      return handleToken(req);
    }
    if (path === "/cis/v1/tenantsmsproviders") {
      if (req.method !== "PUT") throw new HttpError(405, "method not allowed");
      const fault = takeFault("providers");
      if (fault !== undefined) throw new HttpError(fault, "injected fault");
      return handleProviders(req);
    }
    if (path === "/emulator/send-otp" && req.method === "POST") {
      let input: SendOtpInput;
      try {
        input = JSON.parse(await readBody(req)) as SendOtpInput;
      } catch {
        throw new HttpError(400, "body must be JSON");
      }
      if (typeof input?.phone_number !== "string") throw new HttpError(400, "phone_number is required");
      const result = await sendOtp(input);
      return [result.attempts === 0 ? 409 : 200, result];
    }
    if (path === "/emulator/state" && req.method === "GET") {
      // The api_key stays inside the emulator: this endpoint is printed by humans and scripts.
      return [200, state.provider === "CustomGateway" ? { provider: state.provider, uri: state.uri } : state];
    }
    throw new HttpError(404, "not found");
  }

  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    route(req)
      .then(([status, body]) => [status, JSON.stringify(body)] as const)
      .catch((error: unknown) => {
        const status = error instanceof HttpError ? error.status : 500;
        return [status, errorBody(status, error instanceof Error ? error.message : "internal error")] as const;
      })
      .then(([status, text]) => {
        requests.push({ method: req.method ?? "", path, status });
        res.writeHead(status, { "content-type": "application/json" }).end(text);
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;

  return {
    url,
    provider: () => state,
    failNext(route, times, status = 500) {
      faults[route] = { times, status };
    },
    sendOtp,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** `tsx scripts/emulators/mosaic.ts [--port N]`, credentials from MOSAIC_CLIENT_ID / MOSAIC_CLIENT_SECRET. */
async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<void> {
  const portIndex = argv.indexOf("--port");
  const port = portIndex === -1 ? 0 : Number(argv[portIndex + 1]);
  const clientId = env.MOSAIC_CLIENT_ID ?? "sandbox-client";
  const clientSecret = env.MOSAIC_CLIENT_SECRET;
  if (!clientSecret || !Number.isInteger(port)) {
    process.stderr.write("usage: MOSAIC_CLIENT_SECRET=... tsx scripts/emulators/mosaic.ts [--port N]\n");
    process.exitCode = 2;
    return;
  }
  const emulator = await startMosaicEmulator({ clientId, clientSecret, port, log: (l) => process.stdout.write(`[mosaic] ${l}\n`) });
  process.stdout.write(`Mosaic emulator on ${emulator.url} (client id ${clientId}); POST /emulator/send-otp {"phone_number","app"} sends an OTP\n`);
  const stop = () => void emulator.close().then(() => process.exit(0));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main(process.argv.slice(2), process.env);
}
