import { readFileSync } from "node:fs";
import path from "node:path";
import { DENO, DENO_RUN, REPO_ROOT, type Command, type Runtime } from "../../scripts/processes.ts";

export function scriptCommand(runtime: Runtime, script: string): Command {
  const file = path.join(REPO_ROOT, script);
  return runtime === "node" ? { file: process.execPath, args: [file] } : { file: DENO, args: [...DENO_RUN, file] };
}

/** Resident set size of a process in MiB, from /proc (Linux). */
export function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
