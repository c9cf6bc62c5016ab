import { Duplex } from "node:stream";
import { describe, expect, it } from "vitest";
import { classifyClientError, createClientErrorHandler, SUMMARY_INTERVAL_MS } from "../src/clientError.ts";
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

  it.each(["ECONNRESET", "HPE_INVALID_EOF_STATE"])("leaves a socket the client dropped (%s) without an answer", (code) => {
    let written = false;
    const socket = new Duplex({ read() {}, write: (_c, _e, cb) => ((written = true), cb()) });
    createClientErrorHandler(createLogger(() => {}))(Object.assign(new Error("gone"), { code }), socket);
    expect(written).toBe(false);
    expect(socket.destroyed).toBe(true);
  });
});

describe("dropped and timed-out connections are counted, not logged one by one", () => {
  function harness() {
    const logs: Record<string, unknown>[] = [];
    const pending: (() => void)[] = [];
    const handler = createClientErrorHandler(
      createLogger((l) => logs.push(JSON.parse(l))),
      { schedule: (fn, ms) => pending.push(() => (expect(ms).toBe(SUMMARY_INTERVAL_MS), fn())) },
    );
    const socket = () => new Duplex({ read() {}, write: (_c, _e, cb) => cb() });
    const fail = (code: string) => handler(Object.assign(new Error(code), { code }), socket());
    return { handler, logs, pending, fail };
  }

  it("170 clients leaving mid-headers (one slowloris teardown) make one INFO line, not 170 WARNINGs", () => {
    const h = harness();
    for (let i = 0; i < 170; i++) h.fail("HPE_INVALID_EOF_STATE");
    for (let i = 0; i < 20; i++) h.fail("ERR_HTTP_REQUEST_TIMEOUT");
    expect(h.logs).toHaveLength(0);
    expect(h.pending).toHaveLength(1); // one summary scheduled, however many events
    h.pending.shift()!();
    expect(h.logs).toEqual([
      expect.objectContaining({ severity: "INFO", message: "client connections ended without a complete request", droppedMidRequest: 170, timedOut: 20 }),
    ]);
  });

  it("starts a new window after a summary, and flush() logs what is pending (shutdown)", () => {
    const h = harness();
    h.fail("ECONNRESET");
    h.pending.shift()!();
    h.fail("ECONNRESET");
    expect(h.pending).toHaveLength(1);
    h.handler.flush();
    h.handler.flush(); // nothing left: no second line
    expect(h.logs.map((l) => l.droppedMidRequest)).toEqual([1, 1]);
  });

  it("a timed-out request still gets its 408 (someone may be reading)", () => {
    let written = "";
    const socket = new Duplex({ read() {}, write: (c: Buffer, _e, cb) => ((written += c.toString("latin1")), cb()) });
    const logs: string[] = [];
    createClientErrorHandler(createLogger((l) => logs.push(l)), { schedule: () => {} })(
      Object.assign(new Error("slow"), { code: "ERR_HTTP_REQUEST_TIMEOUT" }),
      socket,
    );
    expect(written).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    expect(logs).toHaveLength(0);
  });
});
