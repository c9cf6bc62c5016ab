import http from "node:http";
import type { AddressInfo } from "node:net";
import { freeLoopbackPort } from "../loopbackPort.ts";

/**
 * What the provider fakes (smc.ts, telnyx.ts) share: a loopback server that reads whole bodies, counts its
 * connections, can hold an answer forever or cut the connection, and a queue of faults for the next requests.
 */

/** Faults every fake understands; each fake formats error bodies in its provider's own shape. */
export type TransportFault =
  /** Accept the request and never answer. */
  | { kind: "hang" }
  /** Destroy the connection after reading the request: the client cannot know whether it was processed. */
  | { kind: "reset" }
  /** A 2xx whose body is not JSON. */
  | { kind: "invalidJson" }
  /** A redirect to elsewhere on this server (a client must never follow it with the credentials). */
  | { kind: "redirect"; status: 301 | 302 | 307 | 308 };

export interface FaultQueue<F> {
  /** The next fault: queued ones first, one each, then the standing one (undefined: answer normally). */
  next(): F | undefined;
  enqueue(...faults: F[]): void;
  always(fault: F | undefined): void;
  clear(): void;
}

export function faultQueue<F>(): FaultQueue<F> {
  const queue: F[] = [];
  let standing: F | undefined;
  return {
    next: () => queue.shift() ?? standing,
    enqueue: (...faults) => void queue.push(...faults),
    always: (fault) => void (standing = fault),
    clear() {
      queue.length = 0;
      standing = undefined;
    },
  };
}

export interface FakeRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** The body as JSON, or undefined when it is not. */
  json: unknown;
}

export interface FakeResponder {
  /** Answers after the fake's latency, plus `delayMs` for this answer. */
  json(status: number, body: unknown, headers?: Record<string, string>, delayMs?: number): void;
  /** Never answer (until the fake closes). */
  hang(): void;
  /** Cut the connection without an answer. */
  reset(): void;
  /** A 2xx the client cannot parse. */
  invalidJson(status: number): void;
  redirect(status: number, location: string): void;
  /** Resolves once the answer has gone out (or the connection closed): for work that must come after it. */
  closed(): Promise<void>;
}

export interface FakeHttpServer {
  url: string;
  port: number;
  /** TCP connections accepted since start. */
  readonly connections: number;
  /** The most connections open at the same time. */
  readonly peakConnections: number;
  close(): Promise<void>;
}

export interface FakeHttpOptions {
  port?: number;
  host?: string;
  /** Added before every answer, to model the provider's own latency. */
  latencyMs?: number;
}

function parse(body: string): unknown {
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return undefined;
  }
}

export function bearerToken(headers: http.IncomingHttpHeaders): string | undefined {
  const header = headers.authorization;
  return header?.startsWith("Bearer ") ? header.slice(7) : undefined;
}

export async function startFakeHttp(
  options: FakeHttpOptions,
  handle: (req: FakeRequest, res: FakeResponder) => void,
): Promise<FakeHttpServer> {
  let connections = 0;
  let open = 0;
  let peakConnections = 0;
  const held = new Set<http.ServerResponse>();

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const later = (fn: () => void, extraMs = 0) => {
        const ms = (options.latencyMs ?? 0) + extraMs;
        if (ms > 0) setTimeout(fn, ms);
        else fn();
      };
      const body = Buffer.concat(chunks).toString("utf8");
      const url = new URL(req.url ?? "/", "http://fake");
      handle(
        { method: req.method ?? "GET", path: url.pathname, headers: req.headers, body, json: parse(body) },
        {
          json: (status, json, headers = {}, delayMs = 0) =>
            later(() => {
              if (res.destroyed) return;
              res.writeHead(status, { "Content-Type": "application/json", ...headers });
              res.end(JSON.stringify(json));
            }, delayMs),
          hang: () => void held.add(res),
          reset: () => req.socket.destroy(),
          invalidJson: (status) =>
            later(() => {
              res.writeHead(status, { "Content-Type": "application/json" });
              res.end("<html>not the provider</html>");
            }),
          redirect: (status, location) =>
            later(() => {
              res.writeHead(status, { Location: location, "Content-Type": "application/json" });
              res.end("{}");
            }),
          closed: () => new Promise<void>((resolve) => (res.closed ? resolve() : res.once("close", () => resolve()))),
        },
      );
    });
  });
  server.on("connection", (socket) => {
    connections++;
    peakConnections = Math.max(peakConnections, ++open);
    socket.once("close", () => open--);
  });

  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    get connections() {
      return connections;
    },
    get peakConnections() {
      return peakConnections;
    },
    close() {
      for (const res of held) res.destroy();
      server.closeAllConnections?.();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** Answers a transport fault; false when the fault is not one (the fake answers it in its own shape). */
export function answerTransportFault(fault: { kind: string }, res: FakeResponder, successStatus: number): boolean {
  const f = fault as TransportFault;
  switch (f.kind) {
    case "hang":
      res.hang();
      return true;
    case "reset":
      res.reset();
      return true;
    case "invalidJson":
      res.invalidJson(successStatus);
      return true;
    case "redirect":
      res.redirect(f.status, "/elsewhere");
      return true;
    default:
      return false;
  }
}

/** A loopback port nothing listens on (bound, then released): a provider there refuses the connection. */
export const closedPort: () => Promise<number> = freeLoopbackPort;
