/**
 * `npm run bench` (`-- --quick` for a run under a minute; `-- --only id,id` for some subjects of bench/subjects.ts):
 * the gateway against baselines that do the same work — Mosaic's POST in, one form-encoded POST to a fake Twilio
 * over a keep-alive pool, a JSON answer out — measured in the same run, on Node and Deno, rounds alternating
 * between subjects so machine drift lands on all of them alike. Prints the tables and writes bench/RESULTS.md.
 *
 * The figure to trust on a shared machine is CPU ms per request: the CPU time (user + system, all threads) the
 * serving process used, from /proc/<pid>/stat, divided by the requests it answered. Other load slows a subject
 * down (req/s, latency) far more than it changes what a request costs it — though under heavy contention (a
 * load average of 10 on 2 cores) single rounds still vary by ±30%, which pairing within rounds and medians absorb.
 *
 * Flags: --quick (under a minute), --only id,id (subjects of bench/subjects.ts), --runtime node|deno,
 * --rounds N, --seconds S (per run), --no-startup (skip cold start and memory), --compare DIR (another build of
 * the gateway, e.g. the commit before a change, measured beside this one). Only a complete run writes RESULTS.md.
 *
 * Everything is on loopback; every loop is bounded in rounds and seconds. Load comes from this process
 * (autocannon); the fake Twilios run in a process of their own, each subject in its own.
 */
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import { bundleCommand, DENO, REPO_ROOT, startServer, type Command, type Runtime, type Started } from "../scripts/processes.ts";
import { startRedisServer, type RedisServer } from "../scripts/redisServer.ts";
import { cpuMs } from "./lib/cpu.ts";
import { othersCompeting } from "./lib/machine.ts";
import {
  ACCOUNT_SID,
  AUTH_TOKEN,
  challengeHeaders,
  gatewayEnv,
  PATH,
  request,
  sendHeaders,
  SMS_BODY,
  startFakeTwilios,
  type FakeTwilioHandle,
} from "./lib/fixtures.ts";
import { rssMiB, scriptCommand, sleep } from "./lib/processes.ts";
import { median, pairedDifference, pairedRatio } from "./lib/stats.ts";
import { comparedBundle, REFERENCE, SUBJECTS, type Subject } from "./subjects.ts";

const { values: flags } = parseArgs({
  options: {
    quick: { type: "boolean" },
    only: { type: "string" },
    "no-startup": { type: "boolean" },
    compare: { type: "string" },
    runtime: { type: "string" },
    rounds: { type: "string" },
    seconds: { type: "string" },
  },
});
const quick = flags.quick === true;
const only = flags.only === undefined ? undefined : new Set(flags.only.split(","));
/** Skip cold start and memory (about 15 s): for runs aimed at CPU per request. */
const noStartup = flags["no-startup"] === true;
const compare = flags.compare;
const runtimeArg = flags.runtime;
if (runtimeArg !== undefined && runtimeArg !== "node" && runtimeArg !== "deno") throw new Error("--runtime is node or deno");
const RUNTIMES: Runtime[] = runtimeArg ? [runtimeArg] : ["node", "deno"];
/** Only a complete run (all subjects at full length, every section, nothing compared) replaces bench/RESULTS.md. */
const complete = !quick && !only && !noStartup && !compare && !runtimeArg;
const P = {
  ...(quick
    ? { coldRounds: 3, rounds: 2, tputSeconds: 0.75, latSeconds: 0.75, warmSeconds: 0.4 }
    : { coldRounds: 15, rounds: 4, tputSeconds: 4, latSeconds: 5, warmSeconds: 2 }),
  // For aiming work at one figure: e.g. `--only gateway,express-sdk --rounds 6 --seconds 3`.
  ...(flags.rounds ? { rounds: Number(flags.rounds) } : {}),
  ...(flags.seconds ? { tputSeconds: Number(flags.seconds), latSeconds: Number(flags.seconds) } : {}),
};
/** Saturating load: enough connections to keep a subject's core busy, fewer than its pool. */
const TPUT_CONNECTIONS = 50;
/** The fixed load of the latency target: 200 concurrent callers over a provider answering in 100 ms. */
const LAT_CONNECTIONS = 200;
const FAKE_LATENCY_MS = 100;
/** Every subject's keep-alive pool bound (the gateway's CONCURRENCY), sized for the fixed load. */
const POOL = 200;
const IN_FLIGHT = 500;
/**
 * The fake answers the memory row's 500 requests after this long, so they are all in flight at once. With the pool
 * at 200 they reach the fake in three waves (1.2 s), well inside the 2.5 s deadline even on a loaded machine (at
 * 600 ms the third wave's tail met the deadline there: 504s for the last requests).
 */
const IN_FLIGHT_LATENCY_MS = 400;
/** The targets of issue 12. */
const TARGET = { cpuRatio: 1.0, p99ExtraMs: 5, coldRatio: 1.0, idleRssMiB: 70 };
/** Carried over from earlier work: checks, not speed targets. */
const CHECK = { inFlightRssMiB: 150 };

const t0 = performance.now();
const log = (msg: string) => process.stderr.write(`[bench ${((performance.now() - t0) / 1000).toFixed(1)} s] ${msg}\n`);
const fmt = (n: number, digits = 0) =>
  Number.isFinite(n) ? n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits }) : "—";
const signed = (n: number, digits = 1) => (n >= 0 ? `+${fmt(n, digits)}` : fmt(n, digits));

async function load(
  url: string,
  opts: { connections: number; duration?: number; amount?: number; method?: string; headers?: Record<string, string>; body?: string },
) {
  return autocannon({ url, timeout: 10, method: "POST", headers: sendHeaders, body: SMS_BODY, idReplacement: true, ...opts });
}

// ---- cold start ----------------------------------------------------------------------------------------------

/** Spawn → the first 200 on the GET challenge, on a fresh connection. */
async function coldStart(cmd: Command, env: Record<string, string>, name: string): Promise<number> {
  const server = await startServer(cmd, env);
  try {
    const res = await request({ port: server.ready.port, path: PATH, headers: challengeHeaders });
    const ms = performance.now() - server.spawnedAt;
    if (res.status !== 200) throw new Error(`${name}: challenge answered ${res.status}`);
    return ms;
  } finally {
    await server.stop("SIGKILL");
  }
}

async function measureColdStarts(twilioUrl: string): Promise<Map<string, number[]>> {
  const subjects = RUNTIMES.flatMap((runtime) => [
    { name: `${runtime}:gateway`, cmd: bundleCommand(runtime), env: gatewayEnv(twilioUrl) },
    { name: `${runtime}:express`, cmd: scriptCommand(runtime, "bench/baselines/express-get.mjs"), env: { PORT: "0" } },
    { name: `${runtime}:http`, cmd: scriptCommand(runtime, "bench/baselines/bare-http.mjs"), env: { PORT: "0" } },
  ]);
  const samples = new Map<string, number[]>(subjects.map((s) => [s.name, []]));
  // One untimed start each (full runs): the OS file cache and Deno's module cache are warm for every subject alike.
  if (!quick) for (const s of subjects) await coldStart(s.cmd, s.env, s.name);
  for (let round = 0; round < P.coldRounds; round++) {
    // Rotate the order every round so no subject always runs first (or right after the heaviest one).
    const order = subjects.map((_, i) => subjects[(i + round) % subjects.length]!);
    for (const s of order) samples.get(s.name)!.push(await coldStart(s.cmd, s.env, s.name));
  }
  return samples;
}

// ---- load: CPU per request, throughput, added latency -------------------------------------------------------

interface Samples {
  /** Saturated (50 connections, instant provider): CPU ms per answered request, and req/s. */
  cpuMs: number[];
  rps: number[];
  /** Fixed load (200 concurrent, 100 ms provider): latency percentiles and CPU ms per request. */
  p50: number[];
  p99: number[];
  fixedCpuMs: number[];
  /** Answers other than 2xx, errors and timeouts, over every run. */
  failures: number;
  /** Most connections open to this subject's fake at once, and how many it accepted in all. */
  peakConnections: number;
  connections: number;
}

/**
 * Measured at the fixed load too: every same-work subject; in --quick runs only what the latency target compares
 * (the gateway variants and the reference), to stay under a minute.
 */
function atFixedLoad(subject: Subject): boolean {
  return subject.sameWork && (!quick || subject.role === "gateway" || subject.id === REFERENCE || subject.id === "gateway-compared");
}

interface Running {
  subject: Subject;
  runtime: Runtime;
  key: string;
  server: Started;
  fake: FakeTwilioHandle;
  url: string;
  samples: Samples;
}

type LoadResult = Awaited<ReturnType<typeof autocannon>>;

/** Runs `fn` on the subject's process and returns the result with the CPU ms it used per answered request. */
async function measured(r: Running, fn: () => Promise<LoadResult>) {
  const before = cpuMs(r.server.pid);
  const result = await fn();
  const used = cpuMs(r.server.pid) - before;
  const answered = result["2xx"] + result.non2xx;
  r.samples.failures += result.non2xx + result.errors + result.timeouts;
  return { result, cpuPerRequest: answered > 0 ? used / answered : NaN };
}

interface LoadResults {
  bySubject: Map<string, Samples>;
  /** The fake alone at the fixed load, per round: the baseline of "added" latency. */
  directP50: number[];
  directP99: number[];
  subjects: Subject[];
}

/** One fake per subject and runtime: its pool's connections are its own. */
const lanesOf = (subjects: Subject[]) => RUNTIMES.flatMap((runtime) => subjects.map((subject) => ({ runtime, subject })));

/** `fakes`: one per lane, then the one called directly. */
async function measureLoad(subjects: Subject[], fakes: FakeTwilioHandle[]): Promise<LoadResults> {
  let redis: RedisServer | undefined;
  if (subjects.some((s) => s.needs?.includes("redis"))) {
    log("starting redis-server");
    redis = await startRedisServer();
  }
  const lanes = lanesOf(subjects);
  const direct = fakes[lanes.length]!;
  const running: Running[] = [];
  try {
    await direct.setLatency(FAKE_LATENCY_MS);
    log(`starting ${lanes.length} subjects`);
    const starts = await Promise.allSettled(
      lanes.map(async ({ runtime, subject }, i): Promise<Running> => {
        const fake = fakes[i]!;
        const env = subject.env({ twilioUrl: fake.url, concurrency: POOL, ...(redis ? { redisUrl: redis.url } : {}) });
        const server = await startServer(subject.command(runtime), env);
        const samples: Samples = { cpuMs: [], rps: [], p50: [], p99: [], fixedCpuMs: [], failures: 0, peakConnections: 0, connections: 0 };
        return { subject, runtime, key: `${runtime}:${subject.id}`, server, fake, url: `http://127.0.0.1:${server.ready.port}${PATH}`, samples };
      }),
    );
    for (const st of starts) if (st.status === "fulfilled") running.push(st.value);
    const failed = starts.find((st) => st.status === "rejected");
    if (failed) throw (failed as PromiseRejectedResult).reason;
    // Each subject must answer Mosaic's POST with a 200 before it is measured: a broken baseline fails loudly.
    for (const r of running) {
      const res = await request({ port: r.server.ready.port, method: "POST", path: PATH, headers: sendHeaders, body: SMS_BODY });
      if (res.status !== 200) throw new Error(`${r.key}: POST answered ${res.status}: ${res.body.slice(0, 200)}`);
    }
    const tput = (r: Running, duration: number) => load(r.url, { connections: TPUT_CONNECTIONS, duration });
    const fixed = (r: Running, duration: number) => load(r.url, { connections: LAT_CONNECTIONS, duration });
    log(`warm-up (${P.warmSeconds} s per subject and load)`);
    for (const r of running) {
      await tput(r, P.warmSeconds); // JIT warm-up, not counted
      if (atFixedLoad(r.subject) && !quick) {
        // The fixed load opens the pool's 200 connections: once here, not in the first measured round.
        await r.fake.setLatency(FAKE_LATENCY_MS);
        await fixed(r, P.warmSeconds);
        await r.fake.setLatency(0);
      }
      await r.fake.reset();
    }
    const directP50: number[] = [];
    const directP99: number[] = [];
    for (let round = 0; round < P.rounds; round++) {
      log(`round ${round + 1}/${P.rounds}`);
      // Alternate the order: every subject runs early in one round and late in the next.
      for (const r of round % 2 ? [...running].reverse() : running) {
        const t = await measured(r, () => tput(r, P.tputSeconds));
        r.samples.cpuMs.push(t.cpuPerRequest);
        r.samples.rps.push(t.result.requests.average);
        if (atFixedLoad(r.subject)) {
          await r.fake.setLatency(FAKE_LATENCY_MS);
          const f = await measured(r, () => fixed(r, P.latSeconds));
          await r.fake.setLatency(0);
          r.samples.p50.push(f.result.latency.p50);
          r.samples.p99.push(f.result.latency.p99);
          r.samples.fixedCpuMs.push(f.cpuPerRequest);
        }
        await r.fake.reset();
      }
      const { url, headers, body } = directTwilio(direct.url);
      const d = await load(url, { connections: LAT_CONNECTIONS, duration: P.latSeconds, headers, body });
      directP50.push(d.latency.p50);
      directP99.push(d.latency.p99);
      await direct.reset();
    }
    for (const r of running) {
      const stats = await r.fake.stats();
      r.samples.peakConnections = stats.peakConnections;
      r.samples.connections = stats.connections;
    }
    return { bySubject: new Map(running.map((r) => [r.key, r.samples])), directP50, directP99, subjects };
  } finally {
    await Promise.all(running.map((r) => r.server.stop()));
    await redis?.stop();
  }
}

/** The fake's own Messages endpoint, called directly: the baseline for a subject's added latency. */
function directTwilio(url: string) {
  return {
    url: `${url}/2010-04-01/Accounts/${ACCOUNT_SID}/Messages.json`,
    headers: {
      Authorization: `Basic ${Buffer.from(`${ACCOUNT_SID}:${AUTH_TOKEN}`).toString("base64")}`,
      "Content-Type": "application/x-www-form-urlencoded",
    },
    body: new URLSearchParams({ To: "+14155552671", From: "+14155550100", Body: "Your Acme code is 123456" }).toString(),
  };
}

// ---- memory ---------------------------------------------------------------------------------------------------

interface Memory {
  idle: number;
  inFlight: number;
  answered: number;
}

async function measureMemory(runtime: Runtime, twilioUrl: string): Promise<Memory> {
  const gateway = await startServer(bundleCommand(runtime), gatewayEnv(twilioUrl, { CONCURRENCY: String(POOL) }));
  try {
    const port = gateway.ready.port;
    // Idle = started, SDK warmed up, one SMS sent, then quiet.
    await sleep(quick ? 1000 : 1500);
    const first = await request({ port, method: "POST", path: PATH, headers: sendHeaders, body: SMS_BODY });
    if (first.status !== 200) throw new Error(`${runtime}: first send answered ${first.status}`);
    await sleep(quick ? 500 : 1000);
    const idleSamples: number[] = [];
    for (let i = 0; i < 5; i++, await sleep(50)) idleSamples.push(rssMiB(gateway.pid));
    let peak = 0;
    const sampler = setInterval(() => {
      peak = Math.max(peak, rssMiB(gateway.pid));
    }, 20);
    const r = await load(`http://127.0.0.1:${port}${PATH}`, { connections: IN_FLIGHT, amount: IN_FLIGHT });
    clearInterval(sampler);
    return { idle: median(idleSamples), inFlight: peak, answered: r["2xx"] };
  } finally {
    await gateway.stop();
  }
}

// ---- report ---------------------------------------------------------------------------------------------------

function versions() {
  const pkg = (name: string) =>
    (JSON.parse(readFileSync(path.join(REPO_ROOT, "node_modules", name, "package.json"), "utf8")) as { version: string }).version;
  const deno = execFileSync(DENO, ["--version"], { encoding: "utf8" }).split("\n")[0]!.trim();
  let commit = "unknown";
  try {
    commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: REPO_ROOT, encoding: "utf8" }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--", "gateway", "bench", ":(exclude)bench/RESULTS.md"], { cwd: REPO_ROOT, encoding: "utf8" });
    if (dirty.trim()) commit += " with uncommitted changes";
  } catch {
    // not a git checkout
  }
  return {
    commit,
    node: process.version,
    deno,
    express: pkg("express"),
    twilio: pkg("twilio"),
    autocannon: pkg("autocannon"),
    libphonenumber: pkg("libphonenumber-js"),
  };
}

function machine() {
  const cpuinfo = readFileSync("/proc/cpuinfo", "utf8");
  const model = /model name\s*:\s*(.+)/.exec(cpuinfo)?.[1]?.trim() ?? os.cpus()[0]?.model ?? "unknown";
  return { model, cores: os.cpus().length, memoryGiB: os.totalmem() / 2 ** 30, os: `${os.type()} ${os.release()} ${os.arch()}` };
}

const mdTable = (header: string[], rows: string[][]) =>
  [header, header.map(() => "---"), ...rows].map((r) => `| ${r.join(" | ")} |`).join("\n");

interface Target {
  label: string;
  runtime: Runtime;
  ok: boolean;
  detail: string;
}

async function main() {
  const started = Date.now();
  const loadBefore = os.loadavg();
  const v = versions();
  const m = machine();
  const subjects = [
    ...SUBJECTS.filter((s) => (only ? only.has(s.id) : !quick || s.quick)),
    ...(compare ? [comparedBundle(path.resolve(compare))] : []),
  ];
  if (subjects.length === 0) throw new Error(`--only matched no subject; ids: ${SUBJECTS.map((s) => s.id).join(", ")}`);
  const label = (rt: Runtime) => (rt === "node" ? `Node ${v.node.slice(1)}` : `Deno ${v.deno.split(" ")[1]}`);
  log(`${quick ? "quick" : "full"} run on ${m.model} (${m.cores} cores, load ${loadBefore.map((l) => l.toFixed(1)).join(" ")}); node ${v.node}, ${v.deno}`);

  // Every fake of the run in one process: one per subject lane, one called directly, one for start and memory.
  const lanes = lanesOf(subjects).length;
  const fakes = await startFakeTwilios(lanes + 2, 0);
  const spare = fakes.fakes[lanes + 1]!;
  let cold = new Map<string, number[]>();
  const mem = new Map<Runtime, Memory>();
  let loadResults: LoadResults;
  try {
    if (!noStartup) {
      log("cold starts");
      cold = await measureColdStarts(spare.url);
    }
    loadResults = await measureLoad(subjects, fakes.fakes.slice(0, lanes + 1));
    if (!noStartup) {
      log("memory");
      await spare.setLatency(IN_FLIGHT_LATENCY_MS);
      // One runtime at a time: two 500-request bursts at once would each slow the other's waves.
      for (const rt of RUNTIMES) mem.set(rt, await measureMemory(rt, spare.url));
    }
  } finally {
    await fakes.stop();
  }
  const loadAfter = os.loadavg();

  const { bySubject, directP50, directP99 } = loadResults;
  const s = (rt: Runtime, id: string) => bySubject.get(`${rt}:${id}`);
  const ref = (rt: Runtime) => s(rt, REFERENCE);

  // Table 1: same work, saturated. Table 2: same work at the fixed load.
  const cpuCell = (rt: Runtime, subject: Subject) => {
    const x = s(rt, subject.id)!;
    const r = ref(rt);
    const ratio = r && subject.id !== REFERENCE ? ` (${fmt(pairedRatio(x.cpuMs, r.cpuMs), 2)}×)` : "";
    return `${fmt(median(x.cpuMs), 3)}${ratio}`;
  };
  const failNote = (x: Samples) => (x.failures ? ` ⚠ ${x.failures} failed` : "");
  const saturatedRows = subjects.map((sub) => [
    sub.role === "context" ? `${sub.label} *(context)*` : sub.label,
    ...RUNTIMES.flatMap((rt) => [cpuCell(rt, sub), `${fmt(median(s(rt, sub.id)!.rps))}${failNote(s(rt, sub.id)!)}`]),
  ]);
  const saturatedHeader = ["subject", ...RUNTIMES.flatMap((rt) => [`${label(rt)}: CPU ms/request (× ${REFERENCE})`, `${label(rt)}: req/s`])];
  const fixedSubjects = subjects.filter(atFixedLoad);
  const fixedRows = fixedSubjects.map((sub) => [
    sub.label,
    ...RUNTIMES.flatMap((rt) => {
      const x = s(rt, sub.id)!;
      return [
        `${signed(pairedDifference(x.p50, directP50))} / ${signed(pairedDifference(x.p99, directP99))}`,
        fmt(median(x.fixedCpuMs), 3),
        `${fmt(x.peakConnections)} (${fmt(x.connections)})`,
      ];
    }),
  ]);
  fixedRows.push([
    "the fake Twilio alone (p50 / p99, absolute)",
    ...RUNTIMES.flatMap(() => [`${fmt(median(directP50), 1)} / ${fmt(median(directP99), 1)}`, "—", "—"]),
  ]);
  const fixedHeader = [
    "subject",
    ...RUNTIMES.flatMap((rt) => [`${label(rt)}: added p50 / p99 (ms)`, `${label(rt)}: CPU ms/request`, `${label(rt)}: peak (all) connections`]),
  ];

  const targets: Target[] = [];
  const startupRows: string[][] = [];
  for (const rt of RUNTIMES) {
    const r = ref(rt);
    for (const sub of subjects.filter((x) => x.role === "gateway")) {
      const x = s(rt, sub.id)!;
      if (r) {
        const ratio = pairedRatio(x.cpuMs, r.cpuMs);
        targets.push({
          label: `${sub.id}: CPU/request ≤ ${fmt(TARGET.cpuRatio, 1)}× ${REFERENCE}`,
          runtime: rt,
          ok: ratio <= TARGET.cpuRatio && x.failures === 0,
          detail: `${fmt(ratio, 2)}× (${fmt(median(x.cpuMs), 3)} vs ${fmt(median(r.cpuMs), 3)} ms)${failNote(x)}`,
        });
        const extra = pairedDifference(x.p99, r.p99);
        targets.push({
          label: `${sub.id}: added p99 at ${LAT_CONNECTIONS} concurrent over ${FAKE_LATENCY_MS} ms ≤ ${REFERENCE}'s + ${TARGET.p99ExtraMs} ms`,
          runtime: rt,
          ok: extra <= TARGET.p99ExtraMs && x.failures === 0,
          detail: `${signed(extra)} ms over ${REFERENCE} (added p99 ${signed(pairedDifference(x.p99, directP99))} vs ${signed(pairedDifference(r.p99, directP99))})`,
        });
      }
      targets.push({
        label: `${sub.id}: pool bound, connections open to the fake at once ≤ CONCURRENCY (${POOL})`,
        runtime: rt,
        ok: x.peakConnections <= POOL,
        detail: `peak ${x.peakConnections}, ${x.connections} opened in all (the fake closes sockets idle for 5 s)`,
      });
    }
    if (noStartup) continue;
    const gw = median(cold.get(`${rt}:gateway`)!);
    const ex = median(cold.get(`${rt}:express`)!);
    const bare = median(cold.get(`${rt}:http`)!);
    targets.push({
      label: `cold start ≤ ${fmt(TARGET.coldRatio, 1)}× minimal Express`,
      runtime: rt,
      ok: gw / ex <= TARGET.coldRatio,
      detail: `${fmt(gw / ex, 2)}× (${fmt(gw, 1)} vs ${fmt(ex, 1)} ms)`,
    });
    const mm = mem.get(rt)!;
    targets.push({ label: `idle RSS ≤ ${TARGET.idleRssMiB} MiB`, runtime: rt, ok: mm.idle <= TARGET.idleRssMiB, detail: `${fmt(mm.idle, 1)} MiB` });
    targets.push({
      label: `RSS with ${IN_FLIGHT} requests in flight ≤ ${CHECK.inFlightRssMiB} MiB, all answered (check)`,
      runtime: rt,
      ok: mm.inFlight <= CHECK.inFlightRssMiB && mm.answered === IN_FLIGHT,
      detail: `${fmt(mm.inFlight, 1)} MiB, ${mm.answered}/${IN_FLIGHT} answered 200`,
    });
    startupRows.push([label(rt), `${fmt(gw, 1)} (Express 5: ${fmt(ex, 1)} · node:http: ${fmt(bare, 1)})`, fmt(mm.idle, 1), fmt(mm.inFlight, 1)]);
  }
  const startupTable = mdTable(
    ["runtime", `cold start: spawn → first 200 on GET challenge, median of ${P.coldRounds} (ms)`, "RSS idle (MiB)", `RSS peak, ${IN_FLIGHT} in flight (MiB)`],
    startupRows,
  );
  const targetLabels = [...new Set(targets.map((t) => t.label))];
  const targetRows = targetLabels.map((l) => [
    l,
    ...RUNTIMES.map((rt) => {
      const t = targets.find((x) => x.label === l && x.runtime === rt);
      return t ? `${t.ok ? "met" : "**missed**"}: ${t.detail}` : "—";
    }),
  ]);
  const targetTable = mdTable(["target", ...RUNTIMES.map(label)], targetRows);
  const missed = targets.filter((t) => !t.ok).length;

  const saturatedTable = mdTable(saturatedHeader, saturatedRows);
  const fixedTable = mdTable(fixedHeader, fixedRows);
  const seconds = (Date.now() - started) / 1000;
  const busy = othersCompeting(m.cores, loadBefore, loadAfter);
  const compared = subjects.find((x) => x.id === "gateway-compared");
  // Every gateway variant measured (e.g. `--only gateway-receipts`), each paired with the compared bundle.
  const compareNote = compared
    ? subjects
        .filter((x) => x.role === "gateway")
        .map(
          (g) =>
            `${g.id} / the compared bundle, CPU per request, median of per-round ratios: ${RUNTIMES.map(
              (rt) => `${label(rt)} ${fmt(pairedRatio(s(rt, g.id)!.cpuMs, s(rt, compared.id)!.cpuMs), 3)}×`,
            ).join(", ")} (per round: ${RUNTIMES.map(
              (rt) => s(rt, g.id)!.cpuMs.map((x, i) => fmt(x / s(rt, compared.id)!.cpuMs[i]!, 2)).join(" "),
            ).join(" | ")}).\n`,
        )
        .join("")
    : "";
  const loadNote =
    `Load average (1/5/15 min) at start ${loadBefore.map((l) => fmt(l, 1)).join(" / ")}, at end ${loadAfter.map((l) => fmt(l, 1)).join(" / ")} ` +
    `on ${m.cores} cores` +
    (busy
      ? ": **other processes were competing for the CPU** during this run, so req/s and latency are depressed and noisy; " +
        "CPU ms/request (per process, from /proc) is the figure to trust."
      : ".");
  process.stdout.write(
    `\n${saturatedTable}\n\n${fixedTable}\n\n${noStartup ? "" : `${startupTable}\n\n`}${targetTable}\n\n${compareNote}${loadNote}\n${missed} target(s) missed; ${fmt(seconds, 0)} s.\n`,
  );

  const md = `# Benchmark results

Written by \`npm run bench${quick ? " -- --quick" : ""}\` (bench/run.ts) on ${new Date().toISOString()}; the run took ${fmt(seconds, 0)} s.
Every subject does the same work as the gateway — Mosaic's POST in (API key, JSON body), one form-encoded POST to a
fake Twilio over a keep-alive pool bounded at ${POOL}, a JSON answer out — and all are measured in the same run, rounds
alternating between subjects (order reversed every other round); each figure is the median over ${P.rounds} rounds, each ratio
the median of per-round ratios.

- Code: commit ${v.commit} (the gateway bundle built from it by this run)
- Machine: ${m.model}, ${m.cores} cores, ${fmt(m.memoryGiB, 1)} GiB memory, ${m.os}
- ${loadNote}
- Runtimes: Node ${v.node}, ${v.deno}; express ${v.express}, twilio ${v.twilio}, libphonenumber-js ${v.libphonenumber}; load from autocannon ${v.autocannon} (this process)
- Gateway: the esbuild bundle, \`node dist/gateway.mjs\` (gateway/Dockerfile) and \`deno run … dist/gateway.mjs\`
  (gateway/Dockerfile.deno), SMS_PROVIDER=twilio through the real \`twilio\` SDK. Baselines: bench/baselines/, the same
  files on both runtimes except the floor. Each subject has its own fake Twilio (scripts/emulators/twilio.ts); the
  fakes run in one process of their own, one loaded at a time.
- **CPU ms/request**: user + system CPU time of the serving process (all threads, /proc/<pid>/stat) over a run,
  divided by the requests it answered. Saturated: ${TPUT_CONNECTIONS} connections, the fake answering at once, ${P.tputSeconds} s per run.
  Fixed load: ${LAT_CONNECTIONS} concurrent callers, the fake answering after ${FAKE_LATENCY_MS} ms, ${P.latSeconds} s per run; "added" is the
  subject's percentile minus the fake's own, called directly at the same load in the same round.
- Request: \`${SMS_BODY}\` with \`X-API-Key\`, \`[<id>]\` a fresh id per request (autocannon's idReplacement): every
  request a new OTP. One US number: the phone check's cost over a realistic number mix is measured on its own by
  \`npx tsx bench/phone.ts\`. Every gateway runs the defaults (duplicate suppression and limits in memory) unless its
  row says otherwise, the per-number and per-prefix limits raised to 1,000,000 per hour (counting, never refusing:
  every request goes to one number).

## Same work, saturated (${TPUT_CONNECTIONS} connections, provider answering at once)

${saturatedTable}

## Same work at a fixed load (${LAT_CONNECTIONS} concurrent, provider answering in ${FAKE_LATENCY_MS} ms)

${fixedTable}

## Start and memory

Cold start ${P.coldRounds} rounds per subject${quick ? "" : " after one untimed start each"}, order rotated; RSS idle after the SDK loaded
and one SMS was sent; in flight = the peak while ${IN_FLIGHT} POSTs wait on a fake answering in ${IN_FLIGHT_LATENCY_MS} ms (sampled every 20 ms).

${startupTable}

## Targets (issue 12) and checks

${targetTable}

${missed} missed.
`;
  if (complete) {
    writeFileSync(path.join(REPO_ROOT, "bench/RESULTS.md"), md);
    log("wrote bench/RESULTS.md");
  } else {
    log("a quick or partial run (--quick / --only / --no-startup / --compare / --runtime): bench/RESULTS.md left as it was");
  }
}

await main();
