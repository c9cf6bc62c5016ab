/**
 * bench/SCALE.md from a scale run's results (bench/scale.ts): what was measured, what it plans for the target,
 * whether the shared state held under concurrency, and where the providers' own limits put the ceiling.
 */
import { othersCompeting, type MachineLine } from "./lib/machine.ts";
import { pairedDifference } from "./lib/stats.ts";
import type { CheckResult } from "./scaleChecks.ts";
import {
  ACCOUNT_LIMITS,
  DEPLOYED_MAX_INSTANCES,
  DEPLOYED_REDIS_GB,
  MEMORYSTORE,
  SENDER_LIMITS,
  sendersNeeded,
  type CloudRunShape,
  type Plan,
} from "./scalePlan.ts";

export type Mode = "off" | "memory" | "redis";

const KEY_LABELS: Record<string, string> = {
  "mosaic-sms:d": "dedupe record",
  "mosaic-sms:rl:per_number": "per-number counter",
  "mosaic-sms:rl:per_prefix": "per-prefix counter",
};

export const MODE_LABELS: Record<Mode, string> = {
  off: "off",
  memory: "in-memory",
  redis: "Redis",
};

export interface CpuRow {
  runtime: "node" | "deno";
  mode: Mode;
  /** Median of the rounds, and each round's figure. */
  cpuMsPerRequest: number;
  rounds: number[];
  requestsPerSecond: number;
  redis?: { scriptsPerRequest: number; commandsPerRequest: number; cpuUsPerRequest: number; bytesPerRequest: number };
}

/** The gateway's Redis keys of one kind after the runs. */
export interface KeyFootprint {
  kind: string;
  keys: number;
  /** MEMORY USAGE, mean over a sample. */
  bytes: number;
  /** How long a key of this kind lives (its window), when the kind is known. */
  seconds: number | undefined;
}

/** Requests of one CPU run not answered 200 (a starved machine's deadlines). */
export interface Unanswered {
  run: string;
  bad: number;
  what: string;
  /** False for the unmeasured requests that open a run's connections. */
  measured: boolean;
}

export interface ScaleResult {
  date: string;
  seconds: number;
  boundSeconds: number;
  machine: MachineLine;
  loadAverageAtEnd: number[];
  target: number;
  inFlightMs: number;
  cloudRun: CloudRunShape;
  load: { connections: number; warmUp: number; perRound: number; rounds: number; roundsCut: boolean; unanswered: Unanswered[] };
  cpu: CpuRow[];
  plans: { runtime: CpuRow["runtime"]; mode: Mode; plan: Plan }[];
  checks: CheckResult[];
  redisKeys: KeyFootprint[];
  fakeLatencyMs: number;
}

const fmt = (n: number, digits = 0) =>
  n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
const rt = (r: CpuRow["runtime"], m: MachineLine) => (r === "node" ? `Node ${m.node}` : `Deno ${m.deno}`);
const table = (header: string[], rows: string[][]) =>
  [header, header.map(() => "---"), ...rows].map((r) => `| ${r.join(" | ")} |`).join("\n");

export function machineText(m: MachineLine, loadAtEnd: number[]): string {
  const busy = othersCompeting(m.cores, m.loadAverage, loadAtEnd);
  return (
    `${m.cpuModel}, ${m.cores} cores, ${fmt(m.memoryGiB, 1)} GiB, ${m.os}; Node ${m.node}, Deno ${m.deno}, redis-server ${m.redis}; ` +
    `commit ${m.commit}. Load average (1/5/15 min) at start ${m.loadAverage.map((l) => fmt(l, 2)).join(" / ")}, ` +
    `at end ${loadAtEnd.map((l) => fmt(l, 2)).join(" / ")}` +
    (busy ? ": **other processes were competing for the 2 cores** (CPU per request, read per process from /proc, is the figure that holds up; req/s is depressed)." : ".")
  );
}

/** The plan table: the part the README repeats. */
export function planTable(r: ScaleResult): string {
  const c = r.cloudRun;
  return table(
    [
      "runtime",
      "protection",
      "CPU ms / request",
      `vCPU·s per s at ${fmt(r.target)}/s`,
      `instances: for CPU · for concurrency ${c.concurrency} → needed`,
      "concurrency that makes CPU the bound",
      "Redis commands/s (script calls/s)",
      "redis-server main-thread cores",
      "Redis memory held (GB)",
    ],
    r.plans.map(({ runtime, mode, plan }) => {
      const row = r.cpu.find((x) => x.runtime === runtime && x.mode === mode)!;
      return [
        rt(runtime, r.machine),
        MODE_LABELS[mode],
        fmt(row.cpuMsPerRequest, 3),
        fmt(plan.vcpuSecondsPerSecond, 1),
        `${fmt(plan.instancesForCpu)} · ${fmt(plan.instancesForConcurrency)} → **${fmt(plan.instances)}**`,
        plan.concurrencyForCpuBound === undefined ? "> 1000 (Cloud Run's maximum)" : fmt(plan.concurrencyForCpuBound),
        plan.redis && row.redis
          ? `${fmt(plan.redis.opsPerSecond)} (${fmt(r.target * row.redis.scriptsPerRequest)})`
          : "—",
        plan.redis ? fmt(plan.redis.cores, 2) : "—",
        plan.redis ? fmt(plan.redis.memoryGB, 2) : "—",
      ];
    }),
  );
}

export function providerTable(target: number): string {
  return table(
    ["provider", "sender", "per sender, per second", `senders for ${fmt(target)} OTPs/s`, "note"],
    SENDER_LIMITS.map((l) => [
      l.provider,
      l.sender,
      fmt(l.perSenderPerSecond, l.perSenderPerSecond < 1 ? 1 : 0),
      fmt(sendersNeeded(target, l)),
      `${l.note} ([source](${l.source}))`,
    ]),
  );
}

export function checksTable(checks: CheckResult[]): string {
  const what = (c: CheckResult) =>
    `${c.detail} (${fmt(c.ms)} ms)${c.problems.length ? `: ${c.problems.join("; ")}` : ""}` +
    (c.storeEvents.length ? `; store: ${c.storeEvents.join(", ")}` : "");
  return table(
    ["processes", "check", "result", "what happened"],
    checks.map((c) => [
      String(c.processes),
      c.check,
      c.ok ? (c.retriedAfter ? "pass (2nd attempt)" : "pass") : "**FAIL**",
      c.retriedAfter ? `${what(c)}. 1st attempt, while a store was degraded: ${what(c.retriedAfter)}` : what(c),
    ]),
  );
}

/** The median of per-round differences from protection off on the same runtime: measured under the same load. */
function vsOff(r: ScaleResult, row: CpuRow): string {
  const off = r.cpu.find((x) => x.runtime === row.runtime && x.mode === "off");
  if (!off || off === row) return "—";
  const d = pairedDifference(row.rounds, off.rounds);
  return `${d >= 0 ? "+" : "−"}${fmt(Math.abs(d), 3)} ms`;
}

export function renderScaleMarkdown(r: ScaleResult): string {
  const measured = table(
    ["runtime", "protection", "CPU ms / request (each round)", "vs off, same rounds", "req/s", "Redis script calls / request", "Redis commands / request", "redis-server CPU µs / request", "Redis bytes / request"],
    r.cpu.map((row) => [
      rt(row.runtime, r.machine),
      MODE_LABELS[row.mode],
      `${fmt(row.cpuMsPerRequest, 3)} (${row.rounds.map((x) => fmt(x, 3)).join(", ")})`,
      vsOff(r, row),
      fmt(row.requestsPerSecond),
      row.redis ? fmt(row.redis.scriptsPerRequest, 2) : "—",
      row.redis ? fmt(row.redis.commandsPerRequest, 2) : "—",
      row.redis ? fmt(row.redis.cpuUsPerRequest, 1) : "—",
      row.redis ? fmt(row.redis.bytesPerRequest) : "—",
    ]),
  );
  const redisPlans = r.plans.filter((p) => p.plan.redis);
  const maxCores = Math.max(...redisPlans.map((p) => p.plan.redis!.cores));
  const maxGbps = Math.max(...redisPlans.map((p) => p.plan.redis!.gbps));
  const maxInstances = Math.max(...r.plans.map((p) => p.plan.instances));
  const maxMemory = Math.max(...redisPlans.map((p) => p.plan.redis!.memoryGB));
  const failed = r.checks.filter((c) => !c.ok).length;
  const retried = r.checks.filter((c) => c.retriedAfter).length;
  return `# Scale model

Written by \`npm run bench:scale\` (bench/scale.ts) on ${r.date}; the run took ${fmt(r.seconds)} s (hard bound ${r.boundSeconds} s, build included).

- Machine: ${machineText(r.machine, r.loadAverageAtEnd)}
- Gateway: the esbuild bundle on each runtime, as the images run it, \`SMS_PROVIDER=twilio\` through the real SDK to
  the fake Twilio (scripts/emulators/twilio.ts), \`CONCURRENCY=${r.cloudRun.concurrency}\`. Protection **off**: \`DEDUPE_WINDOW_S=0\`,
  both rate limits \`off\`; **in-memory**: the defaults (dedupe 60 s, 5/10m per number, 30/10m per prefix) in the process;
  **Redis**: the same defaults on a local \`redis-server\` (\`REDIS_URL\`, \`PROTECTION_SECRET\`).

## Measured: CPU per request and Redis work per request

Each request is a new OTP to a new number (every number in a range of its own, so no limit is met). CPU ms /
request = user + system CPU of the gateway process (all threads, /proc/<pid>/stat) over a run ÷ requests answered;
median of ${r.load.rounds} round(s) of ${fmt(r.load.perRound)} requests per subject (each after 100 unmeasured on fresh connections) after ${fmt(r.load.warmUp)} unmeasured, ${r.load.connections} connections,
the fake answering at once, rounds alternating between subjects${r.load.roundsCut ? " (fewer rounds than planned: the time bound cut them)" : ""}. Redis
figures are \`INFO\` deltas of the redis-server over the same runs: script calls are round trips from the gateway,
commands count what the scripts ran inside Redis too (Redis 7 counts both). In memory, every number's counters
stay in the gateway's heap for their window (10 minutes); with Redis that state, and the work above, live in
redis-server instead.

${measured}
${r.load.unanswered.length ? `\nNot answered 200 (in a measured run, counted in its CPU per request, which divides by every answer): ${r.load.unanswered.map((u) => `${u.run}: ${u.what}`).join("; ")}.\n` : ""}
## Plan for ${fmt(r.target)} OTPs per second

vCPU·s per s = rate × CPU per request. Cloud Run sizes by both CPU and concurrency, each at a 60% target
([scaling controls](https://cloud.google.com/run/docs/configuring/scaling-controls)): instances for CPU = vCPU ÷ (${r.cloudRun.vcpuPerInstance} vCPU × 0.6)
(infra/smsGateway.ts deploys \`cpu: "1"\`); instances for concurrency = requests in flight ÷ (${r.cloudRun.concurrency} × 0.6), requests in
flight = rate × ${fmt(r.inFlightMs)} ms (**an assumption**: the provider's answer time, which neither Twilio nor Telnyx publishes; pass
\`--in-flight-ms\` with yours: the \`latencyMs\` of its attempts in the \`sms.send\` log). The gateway waits on the provider far longer than it computes,
so at the deployed concurrency (${r.cloudRun.concurrency}) concurrency, not CPU, sets the count; the next column is the
\`concurrency\` setting (Cloud Run allows up to 1000) at which CPU would.

${planTable(r)}

- **Instances**: up to ${fmt(maxInstances)} at \`concurrency\` ${r.cloudRun.concurrency}; infra's \`maxInstances\` defaults to ${DEPLOYED_MAX_INSTANCES}: raise it for this rate.
  The counts are for the whole rate: with several regions, a region that must carry it alone when another fails
  needs all of them (and its own Memorystore the whole Redis load).
- **Redis**: one Redis primary runs commands on one thread, so the main-thread cores column is the figure to hold
  against one instance: ${fmt(maxCores, 2)} of a core (this machine's redis-server ${r.machine.redis}, loopback, no TLS), and ${fmt(maxGbps, 3)} Gbps of traffic.
  **Google publishes no operations-per-second figure for Memorystore for Redis** (Basic/Standard tier); what it
  publishes is ${MEMORYSTORE.maxNetworkGbps} Gbps of network bandwidth per instance and ${fmt(MEMORYSTORE.maxClients)} connected clients per instance
  (${MEMORYSTORE.sources.join("; ")}), and it advises benchmarking the workload. The gateway holds one connection per instance.
  TLS (\`rediss://\`, as infra deploys it) adds CPU on both sides that this loopback run does not measure.
- **Redis memory**: each OTP leaves ${r.redisKeys.map((k) => `a ${KEY_LABELS[k.kind] ?? k.kind} of ${fmt(k.bytes)} bytes${k.seconds === undefined ? "" : ` for ${fmt(k.seconds)} s`}`).join(", ")}
  (MEMORY USAGE, mean over up to 300 keys of each kind; ${fmt(r.redisKeys.reduce((n, k) => n + k.keys, 0))} keys after the runs). At ${fmt(r.target)}/s that is
  ${fmt(maxMemory, 2)} GB held, when every OTP goes to a new number in a new range (shared ranges hold fewer per-prefix counters);
  infra's default Memorystore is ${DEPLOYED_REDIS_GB} GB (\`redisMemorySizeGb\`, BASIC tier)${maxMemory > DEPLOYED_REDIS_GB ? ": **too small for this rate**" : ""}.

## Correctness under concurrency: gateway processes sharing one redis-server

Gateway processes (1: Node; 2: Node + Deno; 4: Node, Deno, Node, Deno — a runtime switch rolls out with both
serving) with \`REDIS_URL\` on one redis-server, each behind a keep-alive pool of ${r.cloudRun.concurrency} connections (what Cloud Run
sends one instance at most); the fake Twilio answers after ${r.fakeLatencyMs} ms. A check needs every store "shared"
(\`/health\`) before it starts; when a gateway logs its store degraded during a check that fails (a Redis command
took over 300 ms — on a starved machine — and it fell back to per-instance state, as the README documents), that
attempt did not test shared state, so the check runs once more on fresh numbers and both attempts are shown.
${failed === 0 ? "Every check passed" : `**${failed} check(s) failed**`}${retried ? ` (${retried} on a 2nd attempt)` : ""}.

${checksTable(r.checks)}

## The real ceiling: the providers' own limits

What one sender may send, as each provider publishes it: the gateway can serve ${fmt(r.target)} OTPs per second on a
few dozen instances, but delivering them needs this many senders of one kind (an OTP of ≤ 160 GSM-7
characters is one segment). And whatever the instance count, ${fmt(r.target * r.inFlightMs / 1000)} requests are in flight to the provider at
any moment (${fmt(r.target)}/s × ${fmt(r.inFlightMs)} ms), against the provider account's own concurrency.

${providerTable(r.target)}

${ACCOUNT_LIMITS.map((l) => `- ${l.provider}, ${l.what}: ${l.perSecond === undefined ? "no published figure" : `${fmt(l.perSecond)} per second`} — ${l.note} ([source](${l.source})).`).join("\n")}
`;
}
