import net from "node:net";
import { within } from "../poll.ts";

/**
 * A slowloris against a running gateway, with a legitimate client asking alongside (issue 8, item 11): sockets
 * trickling headers (never finishing them), sockets trickling a chunked body after an unauthenticated POST's
 * head, and GET challenges timed before and during. Loopback only, every wait bounded. Used by
 * gateway/test/slowClients.test.ts and the reliability suite (Node and Deno).
 */

export interface SlowSocket {
  readonly openedAt: number;
  /** performance.now() when the connection closed, whoever closed it. */
  closedAt: number | undefined;
  /** The first status line the server sent, if any. */
  answered: string | undefined;
  destroy(): void;
}

/** Writes `first`, then `trickle` every `everyMs` (when given) until the connection closes. */
export function slowSocket(port: number, first: string, trickle = "", everyMs = 0): SlowSocket {
  const socket = net.connect(port, "127.0.0.1");
  const state: SlowSocket = { openedAt: performance.now(), closedAt: undefined, answered: undefined, destroy: () => socket.destroy() };
  let timer: NodeJS.Timeout | undefined;
  socket.on("connect", () => {
    if (first) socket.write(first);
    if (trickle) timer = setInterval(() => socket.writable && socket.write(trickle), everyMs);
  });
  socket.on("data", (chunk: Buffer) => (state.answered ??= chunk.toString("latin1").split("\r\n")[0]));
  socket.on("error", () => {});
  socket.on("close", () => {
    clearInterval(timer);
    state.closedAt = performance.now();
  });
  return state;
}

/** Re-exported for gateway/test/slowClients.test.ts, which imports it from here. */
export { within };

export interface AttackOptions {
  path: string;
  apiKey: string;
  headerSockets?: number;
  bodySockets?: number;
  /** GET challenges timed before, and again during, the attack. */
  legitRequests?: number;
  /** How long to wait for every slow socket to be closed. */
  boundMs: number;
}

export interface AttackFigures {
  /** Per header trickler: ms from open to closed (undefined: still open at the bound). */
  headerCutMs: (number | undefined)[];
  headerAnswers: (string | undefined)[];
  bodyCutMs: (number | undefined)[];
  bodyAnswers: (string | undefined)[];
  /** Every body trickler was closed before the first header trickler was. */
  bodiesFirst: boolean;
  /** GET challenge latencies (ms) before and during; a non-200 is counted in `legitFailures`. */
  baseline: number[];
  underAttack: number[];
  legitFailures: number;
}

async function challengeLatencies(port: number, path: string, apiKey: string, count: number, failures: { n: number }): Promise<number[]> {
  const latencies: number[] = [];
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    try {
      const res = await fetch(`http://127.0.0.1:${port}${path}`, {
        headers: { "X-API-Key": apiKey, "X-Verification-Key": `k${i}` },
        signal: AbortSignal.timeout(5000),
      });
      await res.text();
      if (res.status !== 200) failures.n++;
    } catch {
      failures.n++;
    }
    latencies.push(performance.now() - t0);
  }
  return latencies;
}

export async function slowClientAttack(port: number, options: AttackOptions): Promise<AttackFigures> {
  const { path, apiKey, headerSockets = 150, bodySockets = 20, legitRequests = 40, boundMs } = options;
  const failures = { n: 0 };
  await challengeLatencies(port, path, apiKey, 20, failures); // warm: JIT, connections
  failures.n = 0;
  const baseline = await challengeLatencies(port, path, apiKey, legitRequests, failures);
  const headers = Array.from({ length: headerSockets }, () => slowSocket(port, `GET ${path} HTTP/1.1\r\nHost: x\r\n`, "X-Slow: 1\r\n", 500));
  const bodies = Array.from({ length: bodySockets }, () =>
    slowSocket(
      port,
      `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-API-Key: wrong-key-0123456789\r\nTransfer-Encoding: chunked\r\n\r\n`,
      "1\r\n{\r\n",
      200,
    ),
  );
  const all = [...headers, ...bodies];
  try {
    const underAttack = await challengeLatencies(port, path, apiKey, legitRequests, failures);
    await within(() => all.every((s) => s.closedAt !== undefined), boundMs);
    const cut = (s: SlowSocket) => (s.closedAt === undefined ? undefined : s.closedAt - s.openedAt);
    const firstHeaderClose = Math.min(...headers.map((s) => s.closedAt ?? Infinity));
    return {
      headerCutMs: headers.map(cut),
      headerAnswers: headers.map((s) => s.answered),
      bodyCutMs: bodies.map(cut),
      bodyAnswers: bodies.map((s) => s.answered),
      bodiesFirst: bodies.every((s) => s.closedAt !== undefined && s.closedAt < firstHeaderClose),
      baseline,
      underAttack,
      legitFailures: failures.n,
    };
  } finally {
    for (const s of all) s.destroy();
  }
}

export const percentile = (values: readonly number[], p: number): number =>
  [...values].sort((a, b) => a - b)[Math.max(0, Math.ceil((p / 100) * values.length) - 1)] ?? NaN;

/** "3105–3374 ms", or the count still open. */
export function range(values: readonly (number | undefined)[]): string {
  const closed = values.filter((v): v is number => v !== undefined);
  const open = values.length - closed.length;
  const span = closed.length ? `${Math.round(Math.min(...closed))}–${Math.round(Math.max(...closed))} ms` : "none closed";
  return open ? `${span}, ${open} still open` : span;
}
