import { STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";
import { GatewayError, toErrorResponse } from "./errors.ts";
import type { Logger } from "./log.ts";

/**
 * Node's HTTP parser refuses malformed requests (CR/LF/NUL in a header, conflicting lengths, an oversized head,
 * a bad method) before any handler runs, and by default answers a bare `400 Bad Request` with no body. This
 * answers them in the gateway's JSON error shape instead (https://nodejs.org/api/http.html#event-clienterror).
 * Deno's node:http parses requests in its own server and never emits clientError: there the runtime answers.
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

export function createClientErrorHandler(logger: Logger) {
  return function answerClientError(err: Error & { code?: unknown }, socket: Duplex): void {
    // A reset or half-closed socket has nobody left to answer.
    if (err.code === "ECONNRESET" || !socket.writable) {
      socket.destroy();
      return;
    }
    const { status, body } = toErrorResponse(classifyClientError(err.code));
    const json = JSON.stringify(body);
    logger.warn(`malformed HTTP request ${status}`, { httpRequest: { status }, parserError: typeof err.code === "string" ? err.code : "unknown" });
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
        `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(json)}\r\n` +
        `Cache-Control: no-store\r\nConnection: close\r\n\r\n${json}`,
    );
  };
}
