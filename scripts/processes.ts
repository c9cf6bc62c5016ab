/**
 * Starting the project's own processes — the gateway, baselines, the fake Twilio — for the sandbox, the tests,
 * the reliability suite and the benchmarks: one place that knows the commands, the environment a child gets and
 * how to wait for a server's "listening" line.
 */
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { PROTECTION_VARIABLES } from "../gateway/src/protection/settings.ts";

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
/** The npm `deno` package ships the binary: no download (MOSAIC.md, Deno 2). */
export const DENO = path.join(REPO_ROOT, "node_modules/.bin/deno");
/** The permissions `npm run start:deno` and gateway/Dockerfile.deno grant. */
export const DENO_RUN = ["run", "--allow-net", "--allow-env", "--allow-read", "--allow-sys"];

export type Runtime = "node" | "deno";

export interface Command {
  file: string;
  args: string[];
  /** Working directory; default the repository root. */
  cwd?: string;
}

/** The gateway's sources, as `npm run start:deno` runs them on Deno and tsx runs them on Node. */
export function sourceCommand(runtime: Runtime): Command {
  const main = path.join(REPO_ROOT, "gateway/src/main.ts");
  return runtime === "deno" ? { file: DENO, args: [...DENO_RUN, main] } : { file: process.execPath, args: ["--import", "tsx", main] };
}

/** The esbuild bundle (`npm run build`), as both images run it; `dir` holds gateway.mjs and chunks/. */
export function bundleCommand(runtime: Runtime, dir = path.join(REPO_ROOT, "dist")): Command {
  const args = ["gateway.mjs"];
  return runtime === "deno" ? { file: DENO, args: [...DENO_RUN, ...args], cwd: dir } : { file: process.execPath, args, cwd: dir };
}

/** The gateway's own settings that no name prefix below covers: a developer's Redis or limits never reach a child. */
const GATEWAY_SETTINGS: ReadonlySet<string> = new Set([...PROTECTION_VARIABLES, "CONCURRENCY", "SEND_TIMEOUT_MS"]);

/** Env for children: the parent's, minus anything that could point them at real accounts or change Node itself. */
export function childEnv(overrides: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (GATEWAY_SETTINGS.has(k)) continue;
    if (!/^(TWILIO_|TELNYX_|SMC_|FAILOVER_ON_UNKNOWN$|GATEWAY_|MOSAIC_|SMS_|GOOGLE_|NODE_OPTIONS$|PUBLIC_BASE_URL$|OTP_VALIDITY_S$)/.test(k)) env[k] = v;
  }
  return { ...env, ...overrides };
}

/** Test-only credentials a loopback gateway is started with: it only ever reaches a fake Twilio. */
export interface LoopbackCredentials {
  apiKey: string;
  accountSid: string;
  authToken: string;
}

/** Env for a gateway on 127.0.0.1:0 that delivers through the fake Twilio at `twilioUrl`. */
export function loopbackGatewayEnv(
  twilioUrl: string,
  credentials: LoopbackCredentials,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    PORT: "0",
    HOST: "127.0.0.1",
    GATEWAY_API_KEY: credentials.apiKey,
    SMS_PROVIDER: "twilio",
    TWILIO_ACCOUNT_SID: credentials.accountSid,
    TWILIO_AUTH_TOKEN: credentials.authToken,
    TWILIO_FROM_NUMBER: "+14155550100",
    TWILIO_API_BASE_URL: twilioUrl,
    ...extra,
  };
}

export interface Started {
  child: ChildProcess;
  pid: number;
  /** The JSON "listening" line, with the port the child got. */
  ready: Record<string, unknown> & { port: number };
  /** ms from spawn to the "listening" line. */
  listenMs: number;
  spawnedAt: number;
  stderr: string[];
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Spawns a server that prints a JSON line with `"message":"listening"` and a `port`, and waits for that line.
 * `onOutput` sees every line the child writes, stdout and stderr (the reliability suite scans them all).
 */
export async function startServer(
  cmd: Command,
  env: Record<string, string>,
  timeoutMs = 20_000,
  onOutput?: (line: string, stream: "stdout" | "stderr") => void,
): Promise<Started> {
  const spawnedAt = performance.now();
  const child = spawn(cmd.file, cmd.args, { cwd: cmd.cwd ?? REPO_ROOT, env: childEnv(env), stdio: ["ignore", "pipe", "pipe"] });
  const stderr: string[] = [];
  createInterface({ input: child.stderr! }).on("line", (l) => {
    onOutput?.(l, "stderr");
    stderr.push(l);
    if (stderr.length > 50) stderr.shift();
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  const started: Partial<Started> = { child, spawnedAt, stderr };
  const ready = await new Promise<Record<string, unknown> & { port: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${cmd.args.at(-1)}: no "listening" line in ${timeoutMs} ms`)), timeoutMs);
    let listening = false;
    const lines = createInterface({ input: child.stdout! });
    lines.on("line", (line) => {
      onOutput?.(line, "stdout");
      if (listening) return;
      try {
        const entry = JSON.parse(line) as Record<string, unknown>;
        if (entry.message === "listening" && typeof entry.port === "number") {
          listening = true;
          if (!onOutput) {
            // From here on the logs only need draining: splitting ~10,000 lines/s in the load generator's own
            // process would take CPU from the load, which the baselines (they log nothing) would not pay.
            lines.close();
            child.stdout!.on("data", () => {}).resume();
          }
          started.listenMs = performance.now() - spawnedAt;
          clearTimeout(timer);
          resolve(entry as Record<string, unknown> & { port: number });
        }
      } catch {
        // not JSON: ignore until listening
      }
    });
    void exit.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`${cmd.args.at(-1)} exited (${code}) before listening: ${stderr.join(" | ")}`));
    });
  }).catch((err: unknown) => {
    child.kill("SIGKILL");
    throw err;
  });
  return Object.assign(started, {
    pid: child.pid!,
    ready,
    async stop(signal: NodeJS.Signals = "SIGTERM", graceMs = 10_000) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      try {
        return await exit;
      } finally {
        clearTimeout(timer);
      }
    },
  }) as Started;
}
