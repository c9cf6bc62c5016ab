import type { GatewayConfig } from "./config.ts";

/**
 * What one connection may cost the gateway, on Node and Deno alike (both run Node's http server code: Deno 2
 * ports `_http_server`). Node's defaults (headers 60 s, whole request 300 s, checked every 30 s, no connection
 * cap) let 150 sockets trickling headers hold an instance for minutes (issue 8, item 11).
 */
export interface ConnectionLimits {
  /** The request line and headers must arrive within this, from the first byte; a silent connection too. */
  headersTimeoutMs: number;
  /** The whole request (headers and body) must arrive within this. */
  requestTimeoutMs: number;
  /** How often the two timeouts above are checked: the precision of both. */
  checkIntervalMs: number;
  /** Connections open at once; one more is closed as soon as it is accepted. */
  maxConnections: number;
}

/**
 * Mosaic's webhooks give up after 3 s (MOSAIC.md, guides/user/how_webhooks_work) and send each ~200-byte request
 * at once: headers still arriving after 3 s are nobody's we serve.
 */
export const HEADERS_TIMEOUT_MS = 3000;
/** Timeouts are checked this often (Node's default is 30 s, which would make a 3 s limit a 33 s one). */
const CHECK_INTERVAL_MS = 250;
/**
 * Connections per CONCURRENCY slot: over HTTP/1.1 a request in flight holds one connection, and Cloud Run sends
 * an instance at most CONCURRENCY at once; the rest is room for idle keep-alive connections and probes.
 */
const CONNECTIONS_PER_SLOT = 4;

export function connectionLimits(config: Pick<GatewayConfig, "sendTimeoutMs" | "concurrency">): ConnectionLimits {
  return {
    headersTimeoutMs: HEADERS_TIMEOUT_MS,
    // A body is read within the send deadline or answered 408 by the app (which then closes the connection);
    // this is the backstop for everything else.
    requestTimeoutMs: HEADERS_TIMEOUT_MS + config.sendTimeoutMs,
    checkIntervalMs: CHECK_INTERVAL_MS,
    maxConnections: CONNECTIONS_PER_SLOT * config.concurrency,
  };
}
