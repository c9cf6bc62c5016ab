import { expect } from "vitest";
import { createApp } from "../src/app.ts";
import { ConfigError, parseConfig, type TwilioConfig } from "../src/config.ts";
import type { ConnectionLimits } from "../src/connectionLimits.ts";
import { singleRoute, type RoutingTable } from "../src/delivery/routes.ts";
import { createLogger, type Logger } from "../src/log.ts";
import { createDedupe } from "../src/protection/dedupe.ts";
import { createProtectionKeys } from "../src/protection/keys.ts";
import { createLimits } from "../src/protection/limits.ts";
import { createMemoryStore } from "../src/protection/memoryStore.ts";
import type { DedupeSettings, LimitSettings } from "../src/protection/settings.ts";
// No limit at all: tests of one protection turn on only the limits they test.
import { NO_LIMITS } from "./protection/harness.ts";
import type { ProtectionStore } from "../src/protection/store.ts";
import type { SmsProvider } from "../src/providers/provider.ts";
import { createProviders } from "../src/providers/registry.ts";
import { createHttpTransport, type HttpTransport, type HttpTransportOptions } from "../src/providers/transport.ts";
import { createTwilioProvider } from "../src/providers/twilio/index.ts";
import { createSender } from "../src/send.ts";
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

/** Dedupe and limits as main.ts wires them (issue 11); every field defaults to the least that is on. */
export interface TestProtection {
  /** Default: a fresh in-memory store, closed with the gateway. A store passed in is left open. */
  store?: ProtectionStore;
  dedupe?: Partial<DedupeSettings>;
  limits?: Partial<LimitSettings>;
  /** PROTECTION_SECRET; default a test constant (instances sharing a store must share it). */
  secret?: string;
}

export const PROTECTION_SECRET = "test-protection-secret-0123456789abcdef";

type ProviderFactory = (logger: Logger, transport: HttpTransport) => SmsProvider;

/**
 * The real app, send path and server on 127.0.0.1:0, logs captured in memory instead of stdout. One provider
 * (default: Twilio at `twilioBaseUrl`) on a single "*" route, or several behind `routes`. The providers share one
 * transport, closed with the gateway.
 */
export async function startTestGateway(options: {
  provider?: SmsProvider | ProviderFactory;
  providers?: ProviderFactory[];
  routes?: RoutingTable;
  failoverOnUnknown?: boolean;
  /** The shared transport's settings; default 8 sockets per host on the real clock. */
  transport?: HttpTransportOptions;
  twilioBaseUrl?: string;
  sendTimeoutMs?: number;
  path?: string;
  projectId?: string;
  /** Default: serve()'s, i.e. the production limits for the default SEND_TIMEOUT_MS and CONCURRENCY. */
  limits?: ConnectionLimits;
  /** Default: no protection (every request sends, nothing counted) and no `state` in /healthz. */
  protection?: TestProtection;
}): Promise<TestGateway> {
  const logs: string[] = [];
  const logger = createLogger((line) => logs.push(line));
  const transport = createHttpTransport(options.transport ?? { maxSockets: 8 });
  const build = (p: SmsProvider | ProviderFactory) => (typeof p === "function" ? p(logger, transport) : p);
  const providers = options.providers
    ? options.providers.map(build)
    : [
        build(
          options.provider ??
            createTwilioProvider(twilioConfig(options.twilioBaseUrl ?? "http://127.0.0.1:9"), { transport }),
        ),
      ];
  const p = options.protection;
  const store = p ? (p.store ?? createMemoryStore()) : undefined;
  const keys = createProtectionKeys(p?.secret ?? PROTECTION_SECRET);
  const send = createSender({
    table: options.routes ?? singleRoute(providers[0]!.name, false),
    providers: new Map(providers.map((p) => [p.name, p])),
    failoverOnUnknown: options.failoverOnUnknown ?? false,
    now: Date.now,
    ...(p &&
      store && {
        protection: {
          dedupe: createDedupe({ store, keys, windowMs: 60_000, onUnknownRepeat: "send", ...p.dedupe, logger }),
          limits: createLimits({ store, keys, settings: { ...NO_LIMITS, ...p.limits } }),
        },
      }),
  });
  const app = createApp({
    config: {
      path: options.path ?? "/send-sms",
      apiKeys: [API_KEY, SECOND_KEY],
      sendTimeoutMs: options.sendTimeoutMs ?? 2500,
      projectId: options.projectId,
    },
    send,
    logger,
    ...(store && { protectionState: () => store.state }),
  });
  const server = await serve(app, { port: 0, host: "127.0.0.1", logger, ...(options.limits && { limits: options.limits }) });
  return {
    url: `http://127.0.0.1:${server.port}`,
    logs,
    async close() {
      await server.shutdown();
      transport.close();
      if (store && !p?.store) await store.close();
    },
  };
}

/**
 * The gateway as main.ts wires it — parseConfig(env) → the provider registry → send → app — on 127.0.0.1:0 in
 * this process, logs in memory: what a configuration does end to end, without a child process. Without the
 * protection layer (dedupe would answer a test's repeated OTP from its record): its suites are in protection/.
 */
export async function startGatewayFromEnv(env: Record<string, string>): Promise<TestGateway> {
  const logs: string[] = [];
  const logger = createLogger((line) => logs.push(line));
  const config = parseConfig({ GATEWAY_API_KEY: API_KEY, ...env });
  const { providers, close, warmUp } = createProviders(config, logger);
  await warmUp(); // as main.ts does right after listening: no case's deadline pays for loading the Twilio SDK
  const send = createSender({ table: config.routes, providers, failoverOnUnknown: config.failoverOnUnknown, now: Date.now });
  const server = await serve(createApp({ config, send, logger }), { port: 0, host: "127.0.0.1", logger });
  return {
    url: `http://127.0.0.1:${server.port}`,
    logs,
    async close() {
      await server.shutdown();
      close();
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

/** Every problem parseConfig names for `env` (it must refuse it). */
export function problemsOf(env: Record<string, string | undefined>): string[] {
  try {
    parseConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error("expected a ConfigError");
}
