/// <reference types="./rateLimiterFlexible.d.ts" />
import { checkServerIdentity, type PeerCertificate } from "node:tls";
import { Redis, ReplyError, type RedisOptions } from "ioredis";
import RateLimiterRedis from "rate-limiter-flexible/lib/RateLimiterRedis.js";
import type { Logger } from "../log.ts";
import { allowed, createMemoryStore, refusedOrThrow } from "./memoryStore.ts";
import type { Counter, ProtectionStore, StoreState, SwapResult } from "./store.ts";

/**
 * The shared store: Redis (Memorystore on GCP), through ioredis. Chosen over node-redis (`redis`) by measurement
 * on this project's machine, both on Node 20 and Deno 2.9 (the report of issue 11 has the figures): ioredis loads
 * in about two thirds of the time (bundled 272 KB against 644 KB), connects faster, and its commandTimeout bounds
 * a command to a hung server on both runtimes, where node-redis 6's command timeout left it waiting.
 *
 * When Redis cannot answer, every operation falls back at once to a per-instance memory store ("degraded"), so
 * the gateway keeps sending; the client reconnects by itself (Memorystore's server certificate rotation drops
 * connections for a few seconds, and its docs ask for retries with exponential backoff:
 * https://cloud.google.com/memorystore/docs/redis/about-in-transit-encryption).
 */

export interface RedisStoreOptions {
  /** redis:// or rediss://; may hold the password. */
  url: string;
  /** Used when the URL holds none. */
  password?: string | undefined;
  /** PEM CA(s) the server certificate must chain to (rediss:// only). */
  ca?: string | undefined;
  logger: Logger;
  now?: () => number;
  /** A command not answered in this long counts as Redis being unreachable. Default 300 ms. */
  commandTimeoutMs?: number;
  /** How long creation waits for the first connection before answering degraded. Default 2000 ms. */
  connectWaitMs?: number;
  /** Prefix of every key this store writes. Default "mosaic-sms:". */
  keyPrefix?: string;
}

export interface RedisStore extends ProtectionStore {
  /** Resolves at the next "ready" (tests: wait for a reconnect instead of sleeping). */
  whenShared(): Promise<void>;
}

const DEFAULT_COMMAND_TIMEOUT_MS = 300;
const DEFAULT_CONNECT_WAIT_MS = 2000;
/** Reconnect backoff: 100 ms doubling to 2 s, forever (a Cloud Run instance outlives a Redis outage). */
const MAX_RECONNECT_DELAY_MS = 2000;

/**
 * swap() as one script, so no other instance can act between the read and the write. A nil value becomes Lua
 * false; ARGV: expected-is-set, expected, next-is-set, next, ttl ms.
 */
const SWAP_SCRIPT = `
local found = redis.call('GET', KEYS[1])
local matches
if ARGV[1] == '1' then matches = (found == ARGV[2]) else matches = (found == false) end
if not matches then return {0, found} end
if ARGV[3] == '1' then redis.call('SET', KEYS[1], ARGV[4], 'PX', ARGV[5]) else redis.call('DEL', KEYS[1]) end
return {1, found}
`;

interface SwapCommand {
  protectionSwap(key: string, ...args: string[]): Promise<[0 | 1, string | null]>;
}

/**
 * Memorystore's server certificates name the instance's IP in the subject CN, not in a subjectAltName
 * (https://github.com/envoyproxy/ratelimit/pull/409), which Node's default check rejects for an IP host.
 * The chain must still verify against the instance's own CA; this only also accepts CN = the IP we dialled.
 */
export function memorystoreServerIdentity(host: string, cert: PeerCertificate): Error | undefined {
  const error = checkServerIdentity(host, cert);
  if (error && cert.subject?.CN === host) return undefined;
  return error;
}

export function redisClientOptions(options: RedisStoreOptions): RedisOptions {
  const tls = options.url.startsWith("rediss:")
    ? { ...(options.ca !== undefined && { ca: options.ca }), checkServerIdentity: memorystoreServerIdentity }
    : undefined;
  return {
    ...(options.password !== undefined && { password: options.password }),
    ...(tls && { tls }),
    keyPrefix: options.keyPrefix ?? "mosaic-sms:",
    lazyConnect: true,
    // Fail at once while disconnected (the caller falls back) instead of queueing behind a reconnect.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS,
    connectTimeout: 2000,
    retryStrategy: (times: number) => Math.min(100 * 2 ** Math.min(times - 1, 10), MAX_RECONNECT_DELAY_MS),
  };
}

/** Why Redis failed, for the log: an error code (ECONNREFUSED, a TLS code, Redis's own WRONGPASS), never a value. */
function reasonOf(err: unknown): string {
  if (typeof err !== "object" || err === null) return "unknown";
  const { code, name, message } = err as { code?: unknown; name?: unknown; message?: unknown };
  if (typeof code === "string") return code;
  if (message === "Command timed out") return "command timed out";
  // Redis error replies start with their code in capitals (WRONGPASS, NOAUTH, WRONGTYPE, LOADING…).
  if (err instanceof ReplyError && typeof message === "string") return /^[A-Z]+/.exec(message)?.[0] ?? "ReplyError";
  return typeof name === "string" ? name : "unknown";
}

export async function createRedisStore(options: RedisStoreOptions): Promise<RedisStore> {
  const { logger } = options;
  const client = new Redis(options.url, redisClientOptions(options));
  client.defineCommand("protectionSwap", { numberOfKeys: 1, lua: SWAP_SCRIPT });
  const local = createMemoryStore({ now: options.now });

  let state: StoreState = "degraded";
  let announced = false;
  let closing = false;
  /** Why the connection last failed (ioredis's "error" event comes before its "close"). */
  let lastError: string | undefined;
  let onReady: (() => void)[] = [];
  /**
   * Redis is used only between a "ready" and the next failure. After a timeout the connection is destroyed (a
   * graceful close would wait for the hung server's own FIN, the client staying "ready" all the while), so each
   * later request falls back at once instead of waiting out another timeout, until the reconnect is ready.
   */
  let usable = false;

  function setState(next: StoreState, reason?: string): void {
    if (closing || (next === state && announced)) return;
    state = next;
    announced = true;
    if (next === "shared") logger.info("protection state shared through Redis", { protectionState: next });
    else {
      logger.warn("protection state degraded: Redis unreachable, each instance protects itself until it returns", {
        protectionState: next,
        reason: reason ?? lastError ?? "connection closed",
      });
    }
  }

  client.on("ready", () => {
    lastError = undefined;
    usable = true;
    setState("shared");
    const waiting = onReady;
    onReady = [];
    for (const resolve of waiting) resolve();
  });
  // ioredis reports every failed connection attempt here; without a listener it would print them itself.
  client.on("error", (err: unknown) => {
    lastError = reasonOf(err);
  });
  client.on("close", () => {
    usable = false;
    setState("degraded");
  });

  /** One operation on Redis, or on the local fallback when Redis cannot answer it. */
  async function attempt<T>(onRedis: () => Promise<T>, onLocal: () => Promise<T>): Promise<T> {
    if (!usable || client.status !== "ready") {
      setState("degraded");
      return onLocal();
    }
    try {
      return await onRedis();
    } catch (err) {
      // A server that answers with an error is up (a bug of ours): fall back for this operation only. Anything
      // else (a timeout) means the connection is not answering: drop it; the client reconnects by itself.
      if (!(err instanceof ReplyError)) {
        usable = false;
        client.stream?.destroy();
      }
      setState("degraded", reasonOf(err));
      return onLocal();
    }
  }

  const store: RedisStore = {
    get state() {
      return state;
    },
    swap(key, expected, next, ttlMs): Promise<SwapResult> {
      return attempt(
        async () => {
          const [swapped, found] = await (client as unknown as SwapCommand).protectionSwap(
            key,
            expected === undefined ? "0" : "1",
            expected ?? "",
            next === undefined ? "0" : "1",
            next ?? "",
            String(Math.max(1, Math.ceil(ttlMs))),
          );
          return { swapped: swapped === 1, found: found ?? undefined };
        },
        () => local.swap(key, expected, next, ttlMs),
      );
    },
    get(key) {
      return attempt(
        async () => (await client.get(key)) ?? undefined,
        () => local.get(key),
      );
    },
    counter(name, limit): Counter {
      const shared = new RateLimiterRedis({
        storeClient: client,
        keyPrefix: `rl:${name}`,
        points: limit.points,
        duration: limit.durationS,
        rejectIfRedisNotReady: true,
      });
      const fallback = local.counter(name, limit);
      return {
        consume: (key) =>
          attempt(
            () => shared.consume(key).then(allowed, refusedOrThrow),
            () => fallback.consume(key),
          ),
        refund: (key) =>
          attempt(
            async () => void (await shared.reward(key, 1)),
            () => fallback.refund(key),
          ),
      };
    },
    whenShared() {
      return usable ? Promise.resolve() : new Promise((resolve) => onReady.push(resolve));
    },
    async close() {
      closing = true;
      await local.close();
      if (usable) await client.quit().catch(() => client.disconnect());
      else client.disconnect();
    },
  };

  // The first attempt, bounded: start in a known state. When it fails, ioredis keeps retrying (retryStrategy).
  const firstAttempt = client.connect().catch((err: unknown) => {
    lastError = reasonOf(err);
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const gaveUp = new Promise((resolve) => (timer = setTimeout(resolve, options.connectWaitMs ?? DEFAULT_CONNECT_WAIT_MS)));
  await Promise.race([firstAttempt, gaveUp]);
  clearTimeout(timer);
  if (!announced) setState(usable ? "shared" : "degraded");
  return store;
}
