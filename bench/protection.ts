/**
 * What dedupe + limits cost per request, in-process, on the in-memory store and on a real local redis-server:
 * CPU µs of this process per request (process.cpuUsage), wall µs, Redis commands per request and redis-server's
 * own CPU (INFO). Runs on Node (`npx tsx bench/protection.ts`) and Deno (`deno run -A bench/protection.ts`).
 * No HTTP, no provider: the send is a resolved promise, so the figures are the protection's alone. The gateway
 * benchmark (bench/run.ts) measures it end to end once send.ts wires it.
 *
 * Bounded: a fixed number of requests per row; loopback only (the redis-server this script starts).
 */
import { Redis } from "ioredis";
import { createLogger } from "../gateway/src/log.ts";
import { createDedupe, type Dedupe } from "../gateway/src/protection/dedupe.ts";
import { createProtectionKeys } from "../gateway/src/protection/keys.ts";
import { createLimits, type Limits } from "../gateway/src/protection/limits.ts";
import { createMemoryStore } from "../gateway/src/protection/memoryStore.ts";
import { createRedisStore } from "../gateway/src/protection/redisStore.ts";
import type { LimitSettings } from "../gateway/src/protection/settings.ts";
import type { ProtectionStore } from "../gateway/src/protection/store.ts";
import { startRedisServer } from "../scripts/redisServer.ts";

const REQUESTS = Number(process.env.PROTECTION_BENCH_REQUESTS ?? 5000);
const WARM_UP = 500;
const CONCURRENCY = 50;
const ROUNDS = 3;
/** The default limits' shape (per number and per prefix), with room so every request is allowed. */
const LIMITS: LimitSettings = {
  perNumber: { points: 1_000_000, durationS: 600 },
  perPrefix: { points: 1_000_000, durationS: 600 },
  perCountry: undefined,
  global: undefined,
  allowedCountries: undefined,
};
const runtime = (globalThis as { Deno?: { version: { deno: string } } }).Deno ? "deno" : "node";

interface Protection {
  dedupe: Dedupe;
  limits: Limits;
}

/** Keys as the gateway derives them: in memory without a secret (the default), on Redis under PROTECTION_SECRET. */
function protection(store: ProtectionStore, secret: string | undefined): Protection {
  const keys = createProtectionKeys(secret);
  return {
    dedupe: createDedupe({ store, keys, windowMs: 60_000, onUnknownRepeat: "send" }),
    limits: createLimits({ store, keys, settings: LIMITS }),
  };
}

let serial = 0;
/** One request as send.ts will run it: dedupe, then limits, then the (instant) send. */
async function request(p: Protection | undefined, message: string, e164: string): Promise<void> {
  const to = { e164, callingCode: "1", country: "US" };
  if (!p) return;
  const result = await p.dedupe.run(
    { e164, message, deadline: Date.now() + 2500 },
    async () => {
      const verdict = await p.limits.check(to);
      if (verdict.kind !== "allowed") throw new Error("bench limits must allow every request");
      return `SM${++serial}`;
    },
    (id) => ({ kind: "sent", provider: "bench", id }),
  );
  if (result.kind !== "sent_now" && result.kind !== "duplicate" && result.kind !== "joined") throw new Error(result.kind);
}

type Kind = "fresh" | "duplicate";
const number = (i: number) => `+1415${String(5_000_000 + (i % 4_000_000)).padStart(7, "0")}`;

interface Probe {
  start(): Promise<void>;
  /** Extra text for the row, from what happened since start(). */
  end(requests: number): Promise<string>;
}

async function measure(p: Protection | undefined, kind: Kind, concurrency: number, runId: string, probe?: Probe) {
  const message = (i: number) => `${runId} code ${i}`;
  for (let i = 0; i < WARM_UP; i++) await request(p, `${runId} warm ${i}`, number(i));
  // A duplicate repeats an SMS sent (untimed) before: each timed request finds a "sent" record.
  if (kind === "duplicate") for (let i = 0; i < REQUESTS; i++) await request(p, message(i), number(i));
  await probe?.start();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < REQUESTS; i += concurrency) {
    const batch = [];
    for (let j = i; j < Math.min(REQUESTS, i + concurrency); j++) {
      batch.push(request(p, message(j), number(j)));
    }
    await Promise.all(batch);
  }
  const wallUs = ((performance.now() - t0) * 1000) / REQUESTS;
  const cpu = process.cpuUsage(cpu0);
  return { cpuUs: (cpu.user + cpu.system) / REQUESTS, wallUs, extra: (await probe?.end(REQUESTS)) ?? "" };
}

/**
 * Commands the clients sent, and redis-server's CPU. Redis counts the commands a script runs inside it in
 * commandstats too: everything this code sends in these rows is a script (EVALSHA), so those are counted apart.
 */
async function redisStats(admin: Redis): Promise<{ sent: number; inside: number; cpuS: number }> {
  const info = `${await admin.info("commandstats")}\n${await admin.info("cpu")}`;
  let sent = 0;
  let inside = 0;
  for (const m of info.matchAll(/^cmdstat_([\w|]+):calls=(\d+)/gm)) {
    if (m[1] === "evalsha" || m[1] === "eval") sent += Number(m[2]);
    else if (m[1] !== "info") inside += Number(m[2]);
  }
  const cpu = (k: string) => Number(new RegExp(`^${k}:([\\d.]+)`, "m").exec(info)?.[1] ?? 0);
  return { sent, inside, cpuS: cpu("used_cpu_user") + cpu("used_cpu_sys") };
}

const fmt = (n: number) => n.toFixed(1);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const redis = await startRedisServer();
const admin = new Redis(redis.url);
let before = { sent: 0, inside: 0, cpuS: 0 };
const redisProbe: Probe = {
  async start() {
    before = await redisStats(admin);
  },
  async end(requests) {
    const after = await redisStats(admin);
    const per = (n: number) => (n / requests).toFixed(2);
    const serverUs = fmt(((after.cpuS - before.cpuS) * 1e6) / requests);
    return `${per(after.sent - before.sent)} scripts sent (${per(after.inside - before.inside)} commands inside); redis-server ${serverUs} µs CPU`;
  },
};
const memory = createMemoryStore();
const shared = await createRedisStore({ url: redis.url, logger: createLogger(() => {}) });

interface Row {
  label: string;
  run(round: number): ReturnType<typeof measure>;
  results: Awaited<ReturnType<typeof measure>>[];
}
const rows: Row[] = [];
for (const concurrency of [1, CONCURRENCY]) {
  const add = (store: string, kind: Kind, p: () => Protection | undefined, probe?: Probe) =>
    rows.push({
      label: `| ${runtime} | ${store} | ${p() ? kind : "send"} | ${concurrency}`,
      run: (round) => measure(p(), kind, concurrency, `${store}-${kind}-${concurrency}-${round}`, probe),
      results: [],
    });
  add("protection off", "fresh", () => undefined);
  for (const kind of ["fresh", "duplicate"] as const) add("memory", kind, () => protection(memory, undefined));
  for (const kind of ["fresh", "duplicate"] as const) add("redis", kind, () => protection(shared, "bench-protection-secret-0123456789abcdef"), redisProbe);
}
try {
  // Round 0 warms the JIT on every path (the first row measured cold ran ~3x slower); the median of the rest counts.
  for (let round = 0; round <= ROUNDS; round++) {
    for (const row of rows) {
      const result = await row.run(round);
      if (round > 0) row.results.push(result);
    }
  }
} finally {
  await memory.close();
  await shared.close();
  admin.disconnect();
  await redis.stop();
}

console.log(`\n${REQUESTS} requests per row after ${WARM_UP} warm-up, median of ${ROUNDS} rounds (after a warm-up round), ${runtime}`);
console.log("CPU = this process's user+system time per request; wall = elapsed per request at that concurrency\n");
console.log("| runtime | store | request | concurrency | CPU µs/req | wall µs/req | Redis |");
console.log("|---|---|---|---:|---:|---:|---|");
for (const row of rows) {
  const cpu = median(row.results.map((r) => r.cpuUs));
  const wall = median(row.results.map((r) => r.wallUs));
  console.log(`${row.label} | ${fmt(cpu)} | ${fmt(wall)} | ${row.results.at(-1)!.extra} |`);
}
