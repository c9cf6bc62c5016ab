import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import os from "node:os";
import { DENO, REPO_ROOT } from "../../scripts/processes.ts";

/** Where figures came from: the machine, the runtimes, the code, and how loaded the machine was. */
export interface MachineLine {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  os: string;
  node: string;
  deno: string;
  redis: string;
  commit: string;
  /** 1, 5 and 15 minute load averages. */
  loadAverage: number[];
}

const run = (file: string, args: string[]) => {
  try {
    return execFileSync(file, args, { cwd: REPO_ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return "unknown";
  }
};

export function machineLine(): MachineLine {
  const cpuinfo = readFileSync("/proc/cpuinfo", "utf8");
  const dirty = run("git", ["status", "--porcelain", "--", "gateway", "bench", ":(exclude)bench/SCALE.md", ":(exclude)bench/scale.json", ":(exclude)bench/RESULTS.md"]);
  return {
    cpuModel: /model name\s*:\s*(.+)/.exec(cpuinfo)?.[1]?.trim() ?? os.cpus()[0]?.model ?? "unknown",
    cores: os.cpus().length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version.slice(1),
    deno: /deno (\S+)/.exec(run(DENO, ["--version"]))?.[1] ?? "unknown",
    redis: /v=(\S+)/.exec(run("redis-server", ["--version"]))?.[1] ?? "unknown",
    commit: run("git", ["rev-parse", "--short", "HEAD"]) + (dirty && dirty !== "unknown" ? " with uncommitted changes" : ""),
    loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

/**
 * Whether other processes shared the cores during a run. The 1-minute load at the start is theirs alone; by the
 * end a bench's own processes (load generator, fake provider, subject) keep up to about one runnable process per
 * core, so only load beyond that is someone else's. (Comparing the end load with half the cores flagged every
 * run, a quiet machine's included.)
 */
export function othersCompeting(cores: number, loadAtStart: readonly number[], loadAtEnd: readonly number[]): boolean {
  return loadAtStart[0]! > cores * 0.5 || loadAtEnd[0]! > cores * 1.25;
}
