import { createApp } from "../src/app.ts";
import type { TwilioConfig } from "../src/config.ts";
import type { ConnectionLimits } from "../src/connectionLimits.ts";
import { createLogger, type Logger } from "../src/log.ts";
import type { SmsProvider } from "../src/providers/provider.ts";
import { createTwilioProvider } from "../src/providers/twilio/index.ts";
import { serve } from "../src/server.ts";

export const API_KEY = "test-key-2f1c9a7e5b3d4c6a";
export const SECOND_KEY = "rotating-key-8e7d6c5b4a39";
export const ACCOUNT_SID = `AC${"a1".repeat(16)}`;
export const AUTH_TOKEN = "auth-token-never-logged-5f4e3d";
export const SERVICE_SID = `MG${"b2".repeat(16)}`;

export function twilioConfig(apiBaseUrl: string, overrides: Partial<TwilioConfig> = {}): TwilioConfig {
  return {
    accountSid: ACCOUNT_SID,
    auth: { kind: "authToken", authToken: AUTH_TOKEN },
    sender: { kind: "from", from: "+15005550006" },
    useSenderId: false,
    apiBaseUrl,
    ...overrides,
  };
}

export interface TestGateway {
  url: string;
  /** Every log line the gateway wrote, raw. */
  logs: string[];
  close(): Promise<void>;
}

/** The real app and server on 127.0.0.1:0, logs captured in memory instead of stdout. */
export async function startTestGateway(options: {
  provider?: SmsProvider | ((logger: Logger) => SmsProvider);
  twilioBaseUrl?: string;
  sendTimeoutMs?: number;
  path?: string;
  projectId?: string;
  /** Default: serve()'s, i.e. the production limits for the default SEND_TIMEOUT_MS and CONCURRENCY. */
  limits?: ConnectionLimits;
}): Promise<TestGateway> {
  const logs: string[] = [];
  const logger = createLogger((line) => logs.push(line));
  const provider =
    typeof options.provider === "function"
      ? options.provider(logger)
      : (options.provider ??
        createTwilioProvider(twilioConfig(options.twilioBaseUrl ?? "http://127.0.0.1:9"), { maxSockets: 8 }));
  const app = createApp({
    config: {
      path: options.path ?? "/send-sms",
      apiKeys: [API_KEY, SECOND_KEY],
      sendTimeoutMs: options.sendTimeoutMs ?? 2500,
      projectId: options.projectId,
    },
    provider,
    logger,
  });
  const server = await serve(app, { port: 0, host: "127.0.0.1", logger, ...(options.limits && { limits: options.limits }) });
  return {
    url: `http://127.0.0.1:${server.port}`,
    logs,
    async close() {
      await server.shutdown();
      provider.close?.();
    },
  };
}

export function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-API-Key": API_KEY, ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

export const OTP_BODY = { phone_number: "+14155552671", sender_id: "Acme", message: "Your Acme verification code is: 493817" };

/** The `error.code` of a gateway error answer. */
export async function errorCode(res: Response): Promise<string> {
  return ((await res.json()) as { error: { code: string } }).error.code;
}
