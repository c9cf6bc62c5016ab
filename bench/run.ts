/**
 * `npm run bench` (`-- --quick` for a run under a minute): the gateway against baselines measured in the same
 * run, rounds alternating between subjects so machine drift lands on all of them alike. Node and Deno side by
 * side. Prints one table and writes bench/RESULTS.md (machine, runtime versions, date).
 *
 * Everything is on loopback; every loop is bounded in rounds and seconds. Load comes from this process
 * (autocannon); the fake Twilio runs in a process of its own, the gateway and the baselines in theirs.
 */
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import autocannon from "autocannon";
import {
  ACCOUNT_SID,
  AUTH_TOKEN,
  challengeHeaders,
  gatewayEnv,
  PATH,
  request,
  sendHeaders,
  SMS_BODY,
  startFakeTwilioProcess,
} from "./lib/fixtures.ts";
import { rssMiB, scriptCommand, sleep } from "./lib/processes.ts";
import { bundleCommand, DENO, REPO_ROOT, startServer, type Command, type Runtime } from "../scripts/processes.ts";

const quick = process.argv.includes("--quick");
const P = quick
  ? { coldRounds: 5, tputRounds: 2, tputSeconds: 2, latRounds: 1, latSeconds: 3, warmSeconds: 1 }
  : { coldRounds: 15, tputRounds: 4, tputSeconds: 6, latRounds: 3, latSeconds: 8, warmSeconds: 2 };
/** Connections for the throughput rows: enough to keep one core busy, fewer than the gateway's pool. */
const TPUT_CONNECTIONS = 50;
/** The latency and memory rows: 200 concurrent callers; the gateway is configured for them (CONCURRENCY). */
const LAT_CONNECTIONS = 200;
const POOL = 200;
const FAKE_LATENCY_MS = 100;
const IN_FLIGHT = 500;
/** The fake answers the memory row's 500 requests after this long, so they are all in flight at once. */
const IN_FLIGHT_LATENCY_MS = 600;
const RUNTIMES: Runtime[] = ["node", "deno"];

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);

interface Subject {
  name: string;
  runtime: Runtime;
  cmd: Command;
  env: Record<string, string>;
}

/** Spawn → the first 200 on the GET challenge, on a fresh connection. */
async function coldStart(subject: Subject): Promise<number> {
  const server = await startServer(subject.cmd, subject.env);
  try {
    const res = await request({ port: server.ready.port, path: PATH, headers: challengeHeaders });
    const ms = performance.now() - server.spawnedAt;
    if (res.status !== 200) throw new Error(`${subject.name}: challenge answered ${res.status}`);
    return ms;
  } finally {
    await server.stop("SIGKILL");
  }
}

async function measureColdStarts(twilioUrl: string): Promise<Map<string, number[]>> {
  const subjects: Subject[] = RUNTIMES.flatMap((runtime) => [
    { name: `${runtime}:gateway`, runtime, cmd: bundleCommand(runtime), env: gatewayEnv(twilioUrl) },
    { name: `${runtime}:express`, runtime, cmd: scriptCommand(runtime, "bench/baselines/express-get.mjs"), env: { PORT: "0" } },
    { name: `${runtime}:http`, runtime, cmd: scriptCommand(runtime, "bench/baselines/bare-http.mjs"), env: { PORT: "0" } },
  ]);
  const samples = new Map<string, number[]>(subjects.map((s) => [s.name, []]));
  // One untimed start each: the OS file cache and Deno's module cache are warm for every subject alike.
  for (const s of subjects) await coldStart(s);
  for (let round = 0; round < P.coldRounds; round++) {
    // Rotate the order every round so no subject always runs first (or right after the heaviest one).
    const order = subjects.map((_, i) => subjects[(i + round) % subjects.length]!);
    for (const s of order) samples.get(s.name)!.push(await coldStart(s));
  }
  return samples;
}

async function load(url: string, opts: { connections: number; duration?: number; amount?: number; method: string; headers: Record<string, string>; body: string }) {
  return autocannon({ url, timeout: 10, ...opts });
}

interface Throughput {
  /** Through the real SDK to the fake Twilio answering at once. */
  gateway: number[];
  /** SMS_PROVIDER=log: the provider answers in-process, so this is the gateway's own HTTP and validation cost. */
  gatewayLog: number[];
  echo: number[];
  gatewayNon2xx: number;
}

async function measureThroughput(runtime: Runtime, twilioUrl: string): Promise<Throughput> {
  const gateway = await startServer(bundleCommand(runtime), gatewayEnv(twilioUrl));
  const gatewayLog = await startServer(bundleCommand(runtime), gatewayEnv(twilioUrl, { SMS_PROVIDER: "log" }));
  const echo = await startServer(scriptCommand(runtime, "bench/baselines/express-echo.mjs"), { PORT: "0" });
  const result: Throughput = { gateway: [], gatewayLog: [], echo: [], gatewayNon2xx: 0 };
  try {
    const targets = [
      { key: "gateway" as const, url: `http://127.0.0.1:${gateway.ready.port}${PATH}` },
      { key: "gatewayLog" as const, url: `http://127.0.0.1:${gatewayLog.ready.port}${PATH}` },
      { key: "echo" as const, url: `http://127.0.0.1:${echo.ready.port}${PATH}` },
    ];
    const run = (url: string, duration: number) =>
      load(url, { connections: TPUT_CONNECTIONS, duration, method: "POST", headers: sendHeaders, body: SMS_BODY });
    for (const t of targets) await run(t.url, P.warmSeconds); // JIT warm-up, not counted
    for (let round = 0; round < P.tputRounds; round++) {
      for (const t of round % 2 ? [...targets].reverse() : targets) {
        const r = await run(t.url, P.tputSeconds);
        result[t.key].push(r.requests.average);
        if (t.key !== "echo") result.gatewayNon2xx += r.non2xx + r.errors + r.timeouts;
      }
    }
  } finally {
    await Promise.all([gateway.stop(), gatewayLog.stop(), echo.stop()]);
  }
  return result;
}

interface Latency {
  gatewayP99: number[];
  gatewayP50: number[];
  fakeP99: number[];
  /** Most connections open to the fake at once, and how many it accepted in all. */
  peakConnections: number;
  connections: number;
  failures: number;
}

/** The fake's own Messages endpoint, called directly: the baseline for the gateway's added latency. */
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

async function measureLatency(runtime: Runtime): Promise<Latency> {
  // Separate fakes for the gateway and the direct baseline, so the connection count is the gateway's alone.
  const [fakeForGateway, fakeDirect] = await Promise.all([
    startFakeTwilioProcess(FAKE_LATENCY_MS),
    startFakeTwilioProcess(FAKE_LATENCY_MS),
  ]);
  const gateway = await startServer(bundleCommand(runtime), gatewayEnv(fakeForGateway.url, { CONCURRENCY: String(POOL) }));
  const result: Latency = { gatewayP99: [], gatewayP50: [], fakeP99: [], peakConnections: 0, connections: 0, failures: 0 };
  try {
    const direct = directTwilio(fakeDirect.url);
    const viaGateway = () =>
      load(`http://127.0.0.1:${gateway.ready.port}${PATH}`, {
        connections: LAT_CONNECTIONS, duration: P.latSeconds, method: "POST", headers: sendHeaders, body: SMS_BODY,
      });
    const alone = () => load(direct.url, { connections: LAT_CONNECTIONS, duration: P.latSeconds, method: "POST", headers: direct.headers, body: direct.body });
    await load(`http://127.0.0.1:${gateway.ready.port}${PATH}`, {
      connections: LAT_CONNECTIONS, duration: P.warmSeconds, method: "POST", headers: sendHeaders, body: SMS_BODY,
    });
    for (let round = 0; round < P.latRounds; round++) {
      const g = await viaGateway();
      const f = await alone();
      result.gatewayP99.push(g.latency.p99);
      result.gatewayP50.push(g.latency.p50);
      result.fakeP99.push(f.latency.p99);
      result.failures += g.non2xx + g.errors + g.timeouts;
    }
    const stats = await fakeForGateway.stats();
    result.peakConnections = stats.peakConnections;
    result.connections = stats.connections;
  } finally {
    await gateway.stop();
    await Promise.all([fakeForGateway.stop(), fakeDirect.stop()]);
  }
  return result;
}

interface Memory {
  idle: number;
  inFlight: number;
  answered: number;
}

async function measureMemory(runtime: Runtime): Promise<Memory> {
  const fake = await startFakeTwilioProcess(IN_FLIGHT_LATENCY_MS);
  const gateway = await startServer(bundleCommand(runtime), gatewayEnv(fake.url, { CONCURRENCY: String(POOL) }));
  try {
    const port = gateway.ready.port;
    // Idle = started, SDK warmed up, one SMS sent, then quiet.
    await sleep(1500);
    const first = await request({ port, method: "POST", path: PATH, headers: sendHeaders, body: SMS_BODY });
    if (first.status !== 200) throw new Error(`${runtime}: first send answered ${first.status}`);
    await sleep(1000);
    const idleSamples: number[] = [];
    for (let i = 0; i < 5; i++, await sleep(50)) idleSamples.push(rssMiB(gateway.pid));
    let peak = 0;
    const sampler = setInterval(() => {
      peak = Math.max(peak, rssMiB(gateway.pid));
    }, 20);
    const r = await load(`http://127.0.0.1:${port}${PATH}`, {
      connections: IN_FLIGHT, amount: IN_FLIGHT, method: "POST", headers: sendHeaders, body: SMS_BODY,
    });
    clearInterval(sampler);
    return { idle: median(idleSamples), inFlight: peak, answered: r["2xx"] };
  } finally {
    await gateway.stop();
    await fake.stop();
  }
}

function versions() {
  const pkg = (name: string) =>
    (JSON.parse(readFileSync(path.join(REPO_ROOT, "node_modules", name, "package.json"), "utf8")) as { version: string }).version;
  const deno = execFileSync(DENO, ["--version"], { encoding: "utf8" }).split("\n")[0]!.trim();
  return { node: process.version, deno, express: pkg("express"), twilio: pkg("twilio"), autocannon: pkg("autocannon") };
}

function machine() {
  const cpuinfo = readFileSync("/proc/cpuinfo", "utf8");
  const model = /model name\s*:\s*(.+)/.exec(cpuinfo)?.[1]?.trim() ?? os.cpus()[0]?.model ?? "unknown";
  return { model, cores: os.cpus().length, memoryGiB: os.totalmem() / 2 ** 30, os: `${os.type()} ${os.release()} ${os.arch()}` };
}

const fmt = (n: number, digits = 0) => n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
const verdict = (ok: boolean) => (ok ? "met" : "**missed**");

async function main() {
  const started = Date.now();
  const v = versions();
  const m = machine();
  log(`${quick ? "quick" : "full"} run on ${m.model} (${m.cores} cores); node ${v.node}, ${v.deno}`);

  const idleFake = await startFakeTwilioProcess(0);
  let cold: Map<string, number[]>;
  const tput = new Map<Runtime, Throughput>();
  try {
    log("cold starts");
    cold = await measureColdStarts(idleFake.url);
    for (const rt of RUNTIMES) {
      log(`throughput (${rt})`);
      tput.set(rt, await measureThroughput(rt, idleFake.url));
    }
  } finally {
    await idleFake.stop();
  }
  const lat = new Map<Runtime, Latency>();
  const mem = new Map<Runtime, Memory>();
  for (const rt of RUNTIMES) {
    log(`added latency (${rt})`);
    lat.set(rt, await measureLatency(rt));
  }
  for (const rt of RUNTIMES) {
    log(`memory (${rt})`);
    mem.set(rt, await measureMemory(rt));
  }

  const rows: string[][] = [];
  const targets: { label: string; ok: boolean; detail: string }[] = [];
  const label = (rt: Runtime) => (rt === "node" ? `Node ${v.node.slice(1)}` : `Deno ${v.deno.split(" ")[1]}`);
  for (const rt of RUNTIMES) {
    const gw = median(cold.get(`${rt}:gateway`)!);
    const ex = median(cold.get(`${rt}:express`)!);
    const bare = median(cold.get(`${rt}:http`)!);
    const ratio = gw / ex;
    rows.push([
      `cold start: spawn → first 200 on GET challenge, median of ${P.coldRounds} (ms)`, label(rt), fmt(gw, 1),
      `Express 5: ${fmt(ex, 1)} · node:http: ${fmt(bare, 1)}`, `${fmt(ratio, 2)}× Express`, "≤ 1.0×", verdict(ratio <= 1.0),
    ]);
    targets.push({ label: `${rt} cold start`, ok: ratio <= 1.0, detail: `${fmt(ratio, 2)}× (${fmt(gw, 1)} vs ${fmt(ex, 1)} ms)` });

    const t = tput.get(rt)!;
    const te = median(t.echo);
    for (const [what, samples] of [
      ["real SDK → fake Twilio answering at once", t.gateway],
      ["SMS_PROVIDER=log, answering in-process", t.gatewayLog],
    ] as const) {
      const tg = median(samples);
      const ok = tg / te >= 0.85 && t.gatewayNon2xx === 0;
      rows.push([
        `POST ${PATH} throughput, ${TPUT_CONNECTIONS} connections, ${what} (req/s)`, label(rt), fmt(tg),
        `Express JSON echo: ${fmt(te)}`, `${fmt(tg / te, 2)}×`, "≥ 0.85×", verdict(ok),
      ]);
      targets.push({ label: `${rt} throughput (${what})`, ok, detail: `${fmt(tg / te, 2)}× (non-200 over both: ${t.gatewayNon2xx})` });
    }

    const l = lat.get(rt)!;
    const added = median(l.gatewayP99) - median(l.fakeP99);
    const latOk = added <= 10 && l.failures === 0;
    rows.push([
      `added latency over a fake Twilio at ${FAKE_LATENCY_MS} ms, ${LAT_CONNECTIONS} concurrent, real SDK: p99 (ms)`, label(rt),
      `+${fmt(added, 1)} (p99 ${fmt(median(l.gatewayP99), 1)}, p50 ${fmt(median(l.gatewayP50), 1)})`,
      `the fake alone: p99 ${fmt(median(l.fakeP99), 1)}`, "—", "≤ +10 ms", verdict(latOk),
    ]);
    targets.push({ label: `${rt} added p99`, ok: latOk, detail: `+${fmt(added, 1)} ms (failures: ${l.failures})` });
    rows.push([
      `TCP connections open to the fake at once, peak (pool CONCURRENCY=${POOL})`, label(rt),
      `${fmt(l.peakConnections)} (${fmt(l.connections)} opened in all)`, `pool size ${POOL}`, "—", `≤ ${POOL}`, verdict(l.peakConnections <= POOL),
    ]);
    targets.push({
      label: `${rt} connections`, ok: l.peakConnections <= POOL,
      detail: `peak ${l.peakConnections} open at once; ${l.connections} opened in all (the fake closes sockets idle for 5 s between rounds)`,
    });

    const mm = mem.get(rt)!;
    rows.push([`RSS idle (MiB)`, label(rt), fmt(mm.idle, 1), "—", "—", "≤ 70", verdict(mm.idle <= 70)]);
    targets.push({ label: `${rt} RSS idle`, ok: mm.idle <= 70, detail: `${fmt(mm.idle, 1)} MiB` });
    const inflightOk = mm.inFlight <= 150 && mm.answered === IN_FLIGHT;
    rows.push([
      `RSS peak with ${IN_FLIGHT} requests in flight (MiB)`, label(rt), fmt(mm.inFlight, 1), `${mm.answered}/${IN_FLIGHT} answered 200`,
      "—", "≤ 150", verdict(inflightOk),
    ]);
    targets.push({ label: `${rt} RSS in flight`, ok: inflightOk, detail: `${fmt(mm.inFlight, 1)} MiB, ${mm.answered}/${IN_FLIGHT} 200` });
  }
  const header = ["measure", "runtime", "gateway", "baselines (same run)", "ratio", "target", "result"];
  const table = [header, header.map(() => "---"), ...rows].map((r) => `| ${r.join(" | ")} |`).join("\n");

  const nodeCold = median(cold.get("node:gateway")!);
  const denoCold = median(cold.get("deno:gateway")!);
  const nodeTput = median(tput.get("node")!.gateway);
  const denoTput = median(tput.get("deno")!.gateway);
  const sideBySide = [
    `Deno / Node, the gateway itself: cold start ${fmt(denoCold / nodeCold, 2)}×, POST throughput ${fmt(denoTput / nodeTput, 2)}×, ` +
      `added p99 ${fmt(median(lat.get("deno")!.gatewayP99) - median(lat.get("deno")!.fakeP99), 1)} vs ` +
      `${fmt(median(lat.get("node")!.gatewayP99) - median(lat.get("node")!.fakeP99), 1)} ms, ` +
      `RSS idle ${fmt(mem.get("deno")!.idle, 1)} vs ${fmt(mem.get("node")!.idle, 1)} MiB.`,
  ];
  const seconds = (Date.now() - started) / 1000;
  process.stdout.write(`\n${table}\n\n${sideBySide.join("\n")}\n\n${targets.filter((t) => !t.ok).length} target(s) missed; ${fmt(seconds, 0)} s.\n`);

  const md = `# Benchmark results

Written by \`npm run bench${quick ? " -- --quick" : ""}\` (bench/run.ts) on ${new Date().toISOString()}; the run took ${fmt(seconds, 0)} s.
Every ratio is against a baseline measured in the same run, rounds alternating between subjects.

- Machine: ${m.model}, ${m.cores} cores, ${fmt(m.memoryGiB, 1)} GiB memory, ${m.os}
- Runtimes: Node ${v.node}, ${v.deno}; express ${v.express}, twilio ${v.twilio}; load from autocannon ${v.autocannon} (this process)
- Gateway: the esbuild bundle, \`node dist/gateway.mjs\` (as in gateway/Dockerfile) and \`deno run … dist/gateway.mjs\`
  (as in gateway/Dockerfile.deno); SMS_PROVIDER=twilio through the real \`twilio\` SDK to a loopback fake Twilio
  (scripts/emulators/twilio.ts) running in its own process.
- Rounds: cold start ${P.coldRounds} per subject after one untimed start each; throughput ${P.tputRounds} × ${P.tputSeconds} s per subject;
  latency ${P.latRounds} × ${P.latSeconds} s (gateway, then the fake alone); memory: one send then quiet (idle), then ${IN_FLIGHT}
  simultaneous POSTs with the fake answering after ${IN_FLIGHT_LATENCY_MS} ms, RSS from /proc sampled every 20 ms.

${table}

${sideBySide.join("\n")}

## Targets

${targets.map((t) => `- ${t.ok ? "met" : "**missed**"}: ${t.label}: ${t.detail}`).join("\n")}
`;
  writeFileSync(path.join(REPO_ROOT, "bench/RESULTS.md"), md);
  log("wrote bench/RESULTS.md");
}

await main();
