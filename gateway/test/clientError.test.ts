import { Duplex } from "node:stream";
import { describe, expect, it } from "vitest";
import { classifyClientError, createClientErrorHandler } from "../src/clientError.ts";
import { toErrorResponse } from "../src/errors.ts";
import { createLogger } from "../src/log.ts";

describe("malformed HTTP gets the gateway's JSON error shape", () => {
  it.each([
    ["HPE_HEADER_OVERFLOW", 431, "header_too_large"],
    ["ERR_HTTP_REQUEST_TIMEOUT", 408, "request_timeout"],
    ["HPE_CHUNK_EXTENSIONS_OVERFLOW", 413, "payload_too_large"],
    ["HPE_INVALID_HEADER_TOKEN", 400, "invalid_request"],
    ["HPE_UNEXPECTED_CONTENT_LENGTH", 400, "invalid_request"],
    [undefined, 400, "invalid_request"],
  ])("%s → %i %s", (code, status, errorCode) => {
    const { status: s, body } = toErrorResponse(classifyClientError(code));
    expect(s).toBe(status);
    expect(body.error.code).toBe(errorCode);
  });

  it("writes a complete JSON response and closes the connection", () => {
    let written = "";
    const socket = new Duplex({
      read() {},
      write(chunk: Buffer, _enc, cb) {
        written += chunk.toString("latin1");
        cb();
      },
    });
    const logs: string[] = [];
    createClientErrorHandler(createLogger((l) => logs.push(l)))(Object.assign(new Error("x"), { code: "HPE_INVALID_HEADER_TOKEN" }), socket);
    const [head, body] = written.split("\r\n\r\n");
    expect(head).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(head).toContain("Content-Type: application/json; charset=utf-8");
    expect(head).toContain("Connection: close");
    expect(JSON.parse(body!)).toEqual({ error: { code: "invalid_request", message: "malformed HTTP request" } });
    expect(logs).toHaveLength(1);
  });

  it("leaves a reset socket without an answer", () => {
    let written = false;
    const socket = new Duplex({ read() {}, write: (_c, _e, cb) => ((written = true), cb()) });
    createClientErrorHandler(createLogger(() => {}))(Object.assign(new Error("reset"), { code: "ECONNRESET" }), socket);
    expect(written).toBe(false);
    expect(socket.destroyed).toBe(true);
  });
});
