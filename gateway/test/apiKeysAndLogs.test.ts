import { describe, expect, it } from "vitest";
import { createApiKeyVerifier } from "../src/apiKeys.ts";
import { GatewayError, toErrorResponse } from "../src/errors.ts";
import { createLogger, traceFields } from "../src/log.ts";

describe("createApiKeyVerifier", () => {
  const verify = createApiKeyVerifier(["current-key-0123456789", "previous-key-9876543210"]);
  it.each([
    ["the current key", "current-key-0123456789", true],
    ["the previous key during a rotation", "previous-key-9876543210", true],
    ["a wrong key", "current-key-0123456788", false],
    ["a prefix", "current-key", false],
    ["a longer key", "current-key-01234567890", false],
    ["both keys joined (a duplicated header)", "current-key-0123456789, previous-key-9876543210", false],
    ["empty", "", false],
    ["missing", undefined, false],
  ])("%s → %s", (_label, presented, expected) => {
    expect(verify(presented)).toBe(expected);
  });
});

describe("traceFields", () => {
  const trace = "105445aa7843bc8bf206b12000100000";
  it.each([
    ["trace and span", `${trace}/1;o=1`, "p", { "logging.googleapis.com/trace": `projects/p/traces/${trace}`, "logging.googleapis.com/spanId": "0000000000000001" }],
    ["the largest span", `${trace}/18446744073709551615;o=0`, "p", { "logging.googleapis.com/trace": `projects/p/traces/${trace}`, "logging.googleapis.com/spanId": "ffffffffffffffff" }],
    ["trace and span, no options", `${trace}/74`, "p", { "logging.googleapis.com/trace": `projects/p/traces/${trace}`, "logging.googleapis.com/spanId": "000000000000004a" }],
    ["trace only", trace, "p", { "logging.googleapis.com/trace": `projects/p/traces/${trace}` }],
    ["upper-case hex", trace.toUpperCase(), "p", { "logging.googleapis.com/trace": `projects/p/traces/${trace}` }],
    ["no project", `${trace}/1;o=1`, undefined, {}],
    ["no header", undefined, "p", {}],
    ["a malformed header", "not-a-trace\n{\"severity\":\"CRITICAL\"}", "p", {}],
    // Issue 8, item 13: a 15,000-digit span was logged whole.
    ["a 15,000-digit span", `${trace}/${"9".repeat(15_000)};o=1`, "p", {}],
    ["a span over 2^64 - 1", `${trace}/18446744073709551616;o=1`, "p", {}],
    ["a 33-digit trace", `${trace}0/1;o=1`, "p", {}],
    ["trailing garbage", `${trace}/1;o=1${"x".repeat(40)}`, "p", {}],
    ["a bad option", `${trace}/1;o=7`, "p", {}],
  ])("%s", (_label, header, project, expected) => {
    expect(traceFields(header, project)).toEqual(expected);
  });
});

describe("createLogger", () => {
  it("writes one JSON object per line with severity and message", () => {
    const lines: string[] = [];
    createLogger((l) => lines.push(l)).warn("careful", { a: 1 });
    expect(lines).toHaveLength(1);
    expect(lines[0]!.endsWith("\n")).toBe(true);
    expect(JSON.parse(lines[0]!)).toMatchObject({ severity: "WARNING", message: "careful", a: 1 });
  });
});

describe("toErrorResponse", () => {
  // body-parser's errors, by their `type` and `status`: what a client can cause is a 4xx, the rest stays internal.
  it.each([
    [{ type: "entity.too.large", status: 413 }, 413, "payload_too_large"],
    [{ type: "entity.parse.failed", status: 400 }, 400, "invalid_request"],
    [{ type: "encoding.unsupported", status: 415 }, 415, "unsupported_media_type"],
    [{ type: "charset.unsupported", status: 415 }, 415, "unsupported_media_type"],
    [{ type: "request.aborted", status: 400 }, 400, "invalid_request"],
    [{ type: undefined, status: 400 }, 400, "invalid_request"], // zlib: a gzip body that does not inflate
    [{ type: "stream.encoding.set", status: 500 }, 500, "internal"],
    [new TypeError("a bug"), 500, "internal"],
    [new GatewayError("destination_rejected", "no"), 422, "destination_rejected"],
  ])("%o → %i %s", (err, status, code) => {
    const response = toErrorResponse(err);
    expect(response.status).toBe(status);
    expect(response.body.error.code).toBe(code);
    expect(response.headers).toEqual({});
  });

  it("rate_limited is a 429 whose Retry-After says when to come back; country_not_allowed a 403 without one", () => {
    expect(toErrorResponse(new GatewayError("rate_limited", "too many", { retryAfterS: 42 }))).toEqual({
      status: 429,
      body: { error: { code: "rate_limited", message: "too many" } },
      headers: { "Retry-After": "42" },
    });
    expect(toErrorResponse(new GatewayError("country_not_allowed", "no")).status).toBe(403);
  });
});
