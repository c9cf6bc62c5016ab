import { setImmediate } from "node:timers";

export interface LogSink {
  write(line: string): void;
  /** Writes whatever is pending now: before exit, and from the process's 'exit' event. */
  flush(): void;
}

/**
 * Collects the log lines of one event-loop turn and writes them in one call: under load, one write(2) per turn
 * instead of one per line (per-line stdout writes were ~10% of the gateway's CPU at full load, bench/). Lines
 * keep their order; nothing waits longer than the current turn.
 */
export function createBatchingSink(write: (chunk: string) => void): LogSink {
  let pending: string[] = [];
  let scheduled = false;
  function flush(): void {
    scheduled = false;
    if (pending.length === 0) return;
    const chunk = pending.join("");
    pending = [];
    write(chunk);
  }
  return {
    write(line) {
      pending.push(line);
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    flush,
  };
}
