import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

/**
 * CPU time a process has used, all its threads together (user + system), from /proc/<pid>/stat: the figure that
 * survives a shared machine — other processes slow a subject's requests down, but do not make them cost it more
 * CPU. Resolution is one clock tick (10 ms at the usual CLK_TCK 100), so a measured span should hold ≥ 0.5 s of CPU.
 * Linux only (proc(5): fields 14 utime and 15 stime, in clock ticks; they include threads that have exited).
 */
const CLOCK_TICKS_PER_SECOND = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** utime + stime in ms, from the text of /proc/<pid>/stat. The command name (field 2) may hold spaces and ")". */
export function parseProcStatCpuMs(stat: string, ticksPerSecond = CLOCK_TICKS_PER_SECOND): number {
  const afterName = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // afterName[0] is field 3 (state), so field n is afterName[n - 3].
  const utime = Number(afterName[14 - 3]);
  const stime = Number(afterName[15 - 3]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error(`unreadable /proc stat line: ${stat.slice(0, 80)}`);
  return ((utime + stime) * 1000) / ticksPerSecond;
}

export function cpuMs(pid: number): number {
  return parseProcStatCpuMs(readFileSync(`/proc/${pid}/stat`, "utf8"));
}
