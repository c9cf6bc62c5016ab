import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export type Runtime = "node" | "deno";

/** Env passed to children: the parent's, minus anything that could point them at real accounts. */
export function childEnv(overrides: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^(TWILIO_|GATEWAY_|MOSAIC_|SMS_|GOOGLE_)/.test(k)) env[k] = v;
  }
  return { ...env, ...overrides };
}

export interface GatewayCommand {
  file: string;
  args: string[];
  /** Working directory; default the repository root. */
  cwd?: string;
}

/** How each runtime starts the same gateway source (README: `npm start`, `npm run start:deno`). */
export function gatewayCommand(runtime: Runtime): GatewayCommand {
  const main = path.join(REPO_ROOT, "gateway/src/main.ts");
  if (runtime === "deno") {
    // The npm `deno` package ships the binary: no download (MOSAIC.md, Deno 2).
    return { file: path.join(REPO_ROOT, "node_modules/.bin/deno"), args: ["run", "--allow-net", "--allow-env", "--allow-read", "--allow-sys", main] };
  }
  return { file: process.execPath, args: ["--import", "tsx", main] };
}

export interface RunningGateway {
  readonly port: number;
  readonly pid: number | undefined;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code (null when killed by a signal). */
  stop(graceMs?: number): Promise<number | null>;
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once("exit", (code) => resolve(code)));
}

/**
 * Starts the gateway with PORT=0 and waits for its "listening" log line, which carries the port it got.
 * Each JSON log line is handed to `onLog` (the gateway's logs carry no secrets by contract).
 */
export async function startGateway(
  runtime: Runtime | GatewayCommand,
  env: Record<string, string>,
  onLog: (entry: Record<string, unknown>, raw: string) => void,
  startTimeoutMs = 30_000,
): Promise<RunningGateway> {
  const { file, args, cwd = REPO_ROOT } = typeof runtime === "string" ? gatewayCommand(runtime) : runtime;
  const child = spawn(file, args, { cwd, env: childEnv({ ...env, PORT: "0", HOST: "127.0.0.1" }), stdio: ["ignore", "pipe", "pipe"] });
  const stderr: string[] = [];
  createInterface({ input: child.stderr! }).on("line", (line) => {
    stderr.push(line);
    if (stderr.length > 20) stderr.shift();
  });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the gateway did not log "listening" within ${startTimeoutMs} ms`)), startTimeoutMs);
    createInterface({ input: child.stdout! }).on("line", (raw) => {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(raw) as Record<string, unknown>;
      } catch {
        entry = { message: raw };
      }
      onLog(entry, raw);
      if (entry.message === "listening" && typeof entry.port === "number") {
        clearTimeout(timer);
        resolve(entry.port);
      }
    });
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(new Error(`could not start the gateway (${file}): ${error.message}`));
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the gateway exited with ${code} before listening${stderr.length ? `: ${stderr.join(" | ")}` : ""}`));
    });
  }).catch(async (error: unknown) => {
    child.kill("SIGKILL");
    throw error;
  });
  return {
    port,
    pid: child.pid,
    async stop(graceMs = 10_000) {
      const done = exited(child);
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      try {
        return await done;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** Runs the registration CLI as its own process, exactly as infra's local.Command does, relaying each line. */
export function runRegisterCli(env: Record<string, string>, args: readonly string[], onLine: (line: string) => void): Promise<number> {
  const child = spawn(process.execPath, ["--import", "tsx", path.join(REPO_ROOT, "scripts/register.ts"), ...args], {
    cwd: REPO_ROOT,
    env: childEnv(env),
    stdio: ["ignore", "pipe", "pipe"],
  });
  createInterface({ input: child.stdout! }).on("line", onLine);
  createInterface({ input: child.stderr! }).on("line", onLine);
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => resolve(code ?? 1));
  });
}
