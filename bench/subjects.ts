/**
 * What `npm run bench` loads: the gateway (in one or more environment variations) and the baselines it is held to.
 * Every subject runs on Node and on Deno, gets the gateway's own environment (PORT, GATEWAY_API_KEY, TWILIO_*,
 * CONCURRENCY) and a fake Twilio of its own, and answers Mosaic's POST.
 *
 * Adding a row for a feature of the send path = adding a gateway variant below: the same bundle with a different
 * environment (e.g. a route, protection off or on Redis, receipts on: the rows below).
 *
 * The protection rows (issue 11): the default (dedupe and limits in memory), protection off, and on Redis. Every
 * request is a new SMS (fixtures.ts SMS_BODY) and the limits count but are never reached (LIMITS_NEVER_REACHED),
 * so all three do the baselines' work: the difference between them is what dedupe and the limits cost.
 *
 * A variant is measured exactly like the gateway (CPU per request, throughput, added latency, pool bound) and held
 * to the same targets; `needs: ["redis"]` makes the bench start one throwaway `redis-server`
 * (scripts/redisServer.ts) for the run and hand its URL to `env`. Feature rows run in full runs, not in `--quick`
 * (which keeps the gateway and the baselines, under a minute); `npm run bench -- --only gateway-route,express-sdk`
 * runs a subset.
 */
import { bundleCommand, type Command, type Runtime } from "../scripts/processes.ts";
import { gatewayEnv } from "./lib/fixtures.ts";
import { scriptCommand } from "./lib/processes.ts";

export type Service = "redis";

export interface SubjectContext {
  /** This subject's own fake Twilio. */
  twilioUrl: string;
  /** The keep-alive pool bound every subject gets (the gateway's CONCURRENCY). */
  concurrency: number;
  redisUrl?: string;
}

export interface Subject {
  id: string;
  label: string;
  /**
   * gateway: held to the targets. baseline: same work (one provider POST per request), what the gateway is held to.
   * context: reported only, in full runs (`--quick` skips them): not the same work.
   */
  role: "gateway" | "baseline" | "context";
  /** One provider POST per request: also measured at the fixed load (200 concurrent over a 100 ms provider). */
  sameWork: boolean;
  /** Measured by `--quick` too (the targets' pair and the baselines); feature rows and context: full runs only. */
  quick: boolean;
  command(runtime: Runtime): Command;
  env(ctx: SubjectContext): Record<string, string>;
  needs?: Service[];
}

export interface GatewayVariant {
  id: string;
  label: string;
  env?: (ctx: SubjectContext) => Record<string, string>;
  needs?: Service[];
  /** Not the same work (e.g. no provider call): a context row. */
  context?: boolean;
}

/** The HMAC key the Redis rows share (every instance of a deployment must have the same). */
const BENCH_PROTECTION_SECRET = "bench-protection-secret-0123456789abcdef";

export const GATEWAY_VARIANTS: GatewayVariant[] = [
  {
    id: "gateway",
    label: "the gateway, every check on (API key, deadline, body limit, E.164, access log), protection in memory (the default)",
  },
  {
    id: "gateway-protect-off",
    label: "… protection off (DEDUPE_WINDOW_S=0, no limits)",
    env: () => ({ DEDUPE_WINDOW_S: "0", RATE_LIMIT_PER_NUMBER: "off", RATE_LIMIT_PER_PREFIX: "off" }),
  },
  {
    id: "gateway-protect-redis",
    label: "… protection on Redis (a local redis-server)",
    needs: ["redis"],
    env: (ctx) => ({ REDIS_URL: ctx.redisUrl!, PROTECTION_SECRET: BENCH_PROTECTION_SECRET }),
  },
  {
    id: "gateway-receipts",
    label: "… delivery receipts on (PUBLIC_BASE_URL: a StatusCallback on every send)",
    // How deployments run (infra sets PUBLIC_BASE_URL). The URL is never called: the bench's fake Twilios send
    // no callbacks (bench/fakeTwilioProcess.ts).
    env: () => ({ PUBLIC_BASE_URL: "https://sms-gateway.example" }),
  },
  {
    id: "gateway-route",
    label: "… with SMS_ROUTES: one route (US → Twilio)",
    env: () => ({ SMS_ROUTES: JSON.stringify({ US: [{ provider: "twilio" }] }) }),
  },
  {
    id: "gateway-log",
    label: "the gateway with SMS_PROVIDER=log (no provider call: its own HTTP, checks and logging)",
    env: () => ({ SMS_PROVIDER: "log" }),
    context: true,
  },
];

/** The baselines' environment: the gateway's, so a baseline reads the same key, fake and pool bound. */
function baselineEnv(ctx: SubjectContext): Record<string, string> {
  return gatewayEnv(ctx.twilioUrl, { CONCURRENCY: String(ctx.concurrency) });
}

const baseline = (script: string | Record<Runtime, string>) => (runtime: Runtime) =>
  scriptCommand(runtime, `bench/baselines/${typeof script === "string" ? script : script[runtime]}`);

export const SUBJECTS: Subject[] = [
  ...GATEWAY_VARIANTS.map(
    (v): Subject => ({
      id: v.id,
      label: v.label,
      role: v.context ? "context" : "gateway",
      sameWork: !v.context,
      quick: v.id === "gateway",
      command: (runtime) => bundleCommand(runtime),
      env: (ctx) => gatewayEnv(ctx.twilioUrl, { CONCURRENCY: String(ctx.concurrency), ...v.env?.(ctx) }),
      ...(v.needs ? { needs: v.needs } : {}),
    }),
  ),
  {
    id: "express-sdk",
    quick: true,
    label: "minimal Express 5 + `twilio` SDK (client built once, minimal httpClient)",
    role: "baseline",
    sameWork: true,
    command: baseline("express-sdk.mjs"),
    env: baselineEnv,
  },
  {
    id: "express-http",
    quick: true,
    label: "Express 5 + hand-written `http.request`",
    role: "baseline",
    sameWork: true,
    command: baseline("express-http.mjs"),
    env: baselineEnv,
  },
  {
    id: "floor",
    quick: true,
    label: "the floor: `node:http` + `http.request` (Node) / `Deno.serve` + `fetch` (Deno)",
    role: "baseline",
    sameWork: true,
    command: baseline({ node: "floor-node.mjs", deno: "floor-deno.mjs" }),
    env: baselineEnv,
  },
  {
    id: "express-echo",
    quick: false,
    label: "Express 5 JSON echo (one HTTP exchange, no provider call)",
    role: "context",
    sameWork: false,
    command: baseline("express-echo.mjs"),
    env: () => ({ PORT: "0" }),
  },
];

/**
 * `--compare DIR`: the gateway bundle built in DIR (e.g. from the commit before a change, `npm run build` there),
 * measured beside the current one in the same rounds: a change's effect, paired, on a machine others are loading.
 */
export function comparedBundle(dir: string): Subject {
  return {
    id: "gateway-compared",
    label: `the gateway bundle in ${dir} (compared)`,
    role: "context",
    sameWork: true,
    quick: true,
    command: (runtime) => bundleCommand(runtime, dir),
    env: (ctx) => gatewayEnv(ctx.twilioUrl, { CONCURRENCY: String(ctx.concurrency) }),
  };
}

/** The baseline the CPU and latency targets compare every gateway variant with. */
export const REFERENCE = "express-sdk";
