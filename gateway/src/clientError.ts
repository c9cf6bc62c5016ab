import { STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";
import { setTimeout as setNodeTimeout } from "node:timers";
import { GatewayError, toErrorResponse } from "./errors.ts";
import type { Logger } from "./log.ts";

/**
 * Node's HTTP parser refuses malformed requests (CR/LF/NUL in a header, conflicting lengths, an oversized head,
 * a bad method) before any handler runs, and by default answers a bare `400 Bad Request` with no body. This
 * answers them in the gateway's JSON error shape instead (https://nodejs.org/api/http.html#event-clienterror).
 * Deno 2 runs Node's server code and emits clientError too (gateway/test/deno pins the JSON answer there).
 */
export function classifyClientError(code: unknown): GatewayError {
  switch (code) {
    case "HPE_HEADER_OVERFLOW":
      return new GatewayError("header_too_large", "request headers exceed the server's limit");
    case "ERR_HTTP_REQUEST_TIMEOUT":
      return new GatewayError("request_timeout", "request did not arrive in time");
    case "HPE_CHUNK_EXTENSIONS_OVERFLOW":
      return new GatewayError("payload_too_large", "chunk extensions too large");
    default:
      return new GatewayError("invalid_request", "malformed HTTP request");
  }
}

/**
 * A client that left in the middle of its request (reset, or closed its side: HPE_INVALID_EOF_STATE) did nothing
 * wrong we can tell it about; one cut off by the header or request timeout is a slow client. Neither is worth a
 * line each: one slowloris teardown made 170 WARNING lines (issue 8, item 12). They are counted, and the counts
 * logged once per SUMMARY_INTERVAL_MS at INFO.
 */
type Ended = "dropped" | "timedOut";
export const SUMMARY_INTERVAL_MS = 60_000;

export interface ClientErrorHandler {
  (err: Error & { code?: unknown }, socket: Duplex): void;
  /** Logs the counts not yet logged (on shutdown). */
  flush(): void;
}

export interface ClientErrorOptions {
  /** Runs `fn` once after `ms`; default an unref'd timer, so a pending summary never keeps the process alive. */
  schedule?: (fn: () => void, ms: number) => void;
}

function unrefTimer(fn: () => void, ms: number): void {
  setNodeTimeout(fn, ms).unref();
}

export function createClientErrorHandler(logger: Logger, { schedule = unrefTimer }: ClientErrorOptions = {}): ClientErrorHandler {
  const counts: Record<Ended, number> = { dropped: 0, timedOut: 0 };
  let scheduled = false;

  function flush(): void {
    scheduled = false;
    if (counts.dropped === 0 && counts.timedOut === 0) return;
    logger.info("client connections ended without a complete request", {
      droppedMidRequest: counts.dropped,
      timedOut: counts.timedOut,
    });
    counts.dropped = 0;
    counts.timedOut = 0;
  }

  function count(kind: Ended): void {
    counts[kind]++;
    if (!scheduled) {
      scheduled = true;
      schedule(flush, SUMMARY_INTERVAL_MS);
    }
  }

  function answer(socket: Duplex, error: GatewayError): number {
    const { status, body } = toErrorResponse(error);
    const json = JSON.stringify(body);
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
        `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(json)}\r\n` +
        `Cache-Control: no-store\r\nConnection: close\r\n\r\n${json}`,
    );
    return status;
  }

  return Object.assign(
    function answerClientError(err: Error & { code?: unknown }, socket: Duplex): void {
      // A reset, half-closed or finished socket has nobody left to answer.
      if (err.code === "ECONNRESET" || err.code === "HPE_INVALID_EOF_STATE" || !socket.writable) {
        count("dropped");
        socket.destroy();
        return;
      }
      const error = classifyClientError(err.code);
      if (error.code === "request_timeout") {
        count("timedOut");
        answer(socket, error);
        return;
      }
      const status = answer(socket, error);
      logger.warn(`malformed HTTP request ${status}`, {
        httpRequest: { status },
        parserError: typeof err.code === "string" ? err.code : "unknown",
      });
    },
    { flush },
  );
}
