import http from "node:http";
import type { AddressInfo } from "node:net";
import { createClientErrorHandler } from "./clientError.ts";
import { DEFAULT_CONCURRENCY, DEFAULT_SEND_TIMEOUT_MS, DRAIN_TIMEOUT_MS } from "./config.ts";
import { connectionLimits, type ConnectionLimits } from "./connectionLimits.ts";
import type { Logger } from "./log.ts";

export interface RunningServer {
  port: number;
  /** Stops accepting, lets in-flight requests finish (up to the drain timeout), then closes every connection. */
  shutdown(): Promise<"drained" | "timeout">;
}

export interface ServeOptions {
  port: number;
  host?: string;
  logger: Logger;
  /** Default DRAIN_TIMEOUT_MS (config.ts: Cloud Run's 10 s SIGKILL, and SEND_TIMEOUT_MS never above it). */
  drainTimeoutMs?: number;
  /** Default: connectionLimits() of the default SEND_TIMEOUT_MS and CONCURRENCY. */
  limits?: ConnectionLimits;
}

/**
 * Listens and drains on shutdown the same way on Node and Deno: close the listener at once (new connections
 * are refused), then wait for the in-flight count to reach zero rather than for close()'s callback — Deno fires
 * that early and drops idle keep-alive connections (deno#35609), while a request already in flight still gets
 * its answer on both runtimes (gateway/test/deno and gateway/test/shutdown.test.ts pin this). Answers given
 * while draining carry `Connection: close` so clients reconnect elsewhere.
 */
export function serve(handler: http.RequestListener, options: ServeOptions): Promise<RunningServer> {
  const { logger, drainTimeoutMs = DRAIN_TIMEOUT_MS } = options;
  const limits = options.limits ?? connectionLimits({ sendTimeoutMs: DEFAULT_SEND_TIMEOUT_MS, concurrency: DEFAULT_CONCURRENCY });
  // requireHostHeader off: a request without Host reaches the app and gets its JSON answer (Node's own is a bare 400).
  const server = http.createServer(
    {
      requireHostHeader: false,
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      connectionsCheckingInterval: limits.checkIntervalMs,
    },
    handler,
  );
  server.maxConnections = limits.maxConnections;
  const clientErrors = createClientErrorHandler(logger);
  server.on("clientError", clientErrors);
  // An Expect other than 100-continue: the runtime would answer a bare 417 itself. Hand it to the app as a request
  // instead (counted in flight like any other), which answers it in the JSON error shape.
  server.on("checkExpectation", (req: http.IncomingMessage, res: http.ServerResponse) => server.emit("request", req, res));
  let inFlight = 0;
  let draining = false;
  let onIdle: (() => void) | undefined;

  server.prependListener("request", (_req: http.IncomingMessage, res: http.ServerResponse) => {
    inFlight++;
    if (draining) res.setHeader("Connection", "close");
    res.once("close", () => {
      inFlight--;
      if (inFlight === 0) onIdle?.();
    });
  });

  async function shutdown(): Promise<"drained" | "timeout"> {
    draining = true;
    logger.info("shutting down: draining in-flight requests", { inFlight });
    server.close();
    server.closeIdleConnections?.();
    const idle = new Promise<"drained">((resolve) => {
      onIdle = () => resolve("drained");
      if (inFlight === 0) resolve("drained");
    });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), drainTimeoutMs);
    });
    const outcome = await Promise.race([idle, timeout]);
    clearTimeout(timer);
    server.closeAllConnections?.();
    if (outcome === "timeout") logger.warn("drain timeout: closing with requests in flight", { inFlight });
    clientErrors.flush();
    return outcome;
  }

  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host ?? "0.0.0.0", () => {
      server.off("error", reject);
      resolve({ port: (server.address() as AddressInfo).port, shutdown });
    });
  });
}
