/**
 * redis-server's own counters, from the text of `INFO commandstats stats cpu`, and the difference between two
 * snapshots: what a run of requests cost Redis. Redis 7 counts the commands a script runs inside it like any other
 * (in commandstats and in total_commands_processed alike), so scripts are counted apart: one script call is one
 * round trip from the gateway. `INFO` itself (the snapshots) is left out.
 * Format: https://redis.io/docs/latest/commands/info/ ("cmdstat_<name>:calls=…", used_cpu_user/sys in seconds).
 */

export interface RedisInfo {
  callsByCommand: Record<string, number>;
  /** used_cpu_user + used_cpu_sys, seconds: the server process, all its threads. */
  cpuS: number;
  /** total_net_input_bytes + total_net_output_bytes. */
  netBytes: number;
}

export interface RedisDelta {
  /** EVAL/EVALSHA/FCALL calls: each one round trip that ran a script. */
  scripts: number;
  /** Every command executed, those inside scripts included (INFO excluded). */
  commands: number;
  cpuUs: number;
  netBytes: number;
}

const SCRIPT_CALLS = new Set(["eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro"]);

export function parseRedisInfo(text: string): RedisInfo {
  const field = (name: string) => {
    const m = new RegExp(`^${name}:([\\d.]+)\\r?$`, "m").exec(text);
    if (!m) throw new Error(`not redis-server INFO output (no ${name}): ask for INFO commandstats stats cpu`);
    return Number(m[1]);
  };
  const callsByCommand: Record<string, number> = {};
  for (const m of text.matchAll(/^cmdstat_([\w|-]+):calls=(\d+)/gm)) {
    if (m[1] !== "info") callsByCommand[m[1]!] = Number(m[2]);
  }
  return {
    callsByCommand,
    cpuS: field("used_cpu_user") + field("used_cpu_sys"),
    netBytes: field("total_net_input_bytes") + field("total_net_output_bytes"),
  };
}

export function redisDelta(before: RedisInfo, after: RedisInfo): RedisDelta {
  let scripts = 0;
  let commands = 0;
  for (const [name, calls] of Object.entries(after.callsByCommand)) {
    const d = calls - (before.callsByCommand[name] ?? 0);
    commands += d;
    if (SCRIPT_CALLS.has(name)) scripts += d;
  }
  return { scripts, commands, cpuUs: Math.round((after.cpuS - before.cpuS) * 1e6), netBytes: after.netBytes - before.netBytes };
}
