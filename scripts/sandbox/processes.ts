import { spawn } from "node:child_process";
import path from "node:path";
import { createInterface } from "node:readline";
import { childEnv, REPO_ROOT, sourceCommand, startServer, type Command, type Runtime } from "../processes.ts";

export type { Runtime };

export interface RunningGateway {
  readonly port: number;
  readonly pid: number | undefined;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code (null when killed by a signal). */
  stop(graceMs?: number): Promise<number | null>;
}

/**
 * Starts the gateway on loopback with PORT=0 — from its sources on `runtime`, or with an explicit command — and
 * waits for its "listening" line. Each stdout line is handed to `onLog` parsed (the gateway's logs carry no
 * secrets by contract; a line that is not JSON arrives as `{message: line}`).
 */
export async function startGateway(
  runtime: Runtime | Command,
  env: Record<string, string>,
  onLog: (entry: Record<string, unknown>, raw: string) => void,
  startTimeoutMs = 30_000,
): Promise<RunningGateway> {
  const command = typeof runtime === "string" ? sourceCommand(runtime) : runtime;
  const server = await startServer(command, { ...env, PORT: "0", HOST: "127.0.0.1" }, startTimeoutMs, (raw, stream) => {
    if (stream !== "stdout") return;
    let entry: Record<string, unknown>;
    try {
      entry = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      entry = { message: raw };
    }
    onLog(entry, raw);
  });
  return {
    port: server.ready.port,
    pid: server.pid,
    stop: async (graceMs = 10_000) => (await server.stop("SIGTERM", graceMs)).code,
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
