import { describe, expect, it } from "vitest";
import { parseE164 } from "../src/phone.ts";
import { classifyTwilioFailure, MESSAGE_SID, parseRetryAfter } from "../src/providers/twilio/classify.ts";
import { rewriteUri } from "../src/providers/twilio/httpClient.ts";
import { chooseSender } from "../src/providers/twilio/sender.ts";

function restError(status: number, code?: number) {
  return Object.assign(new Error(`HTTP ${status}`), { status, code });
}

describe("classifyTwilioFailure", () => {
  const written = { deadlinePassed: false, written: true };
  it.each([
    ["21211 invalid To", restError(400, 21211), { kind: "destination_rejected", code: 21211 }],
    ["21408 geo permission", restError(400, 21408), { kind: "destination_rejected", code: 21408 }],
    ["21610 unsubscribed", restError(400, 21610), { kind: "destination_rejected", code: 21610 }],
    ["21612 unreachable", restError(400, 21612), { kind: "destination_rejected", code: 21612 }],
    ["21614 not a mobile", restError(400, 21614), { kind: "destination_rejected", code: 21614 }],
    ["429", restError(429, 20429), { kind: "rate_limited", retryAfterMs: undefined }],
    ["429 without a code", restError(429), { kind: "rate_limited", retryAfterMs: undefined }],
    // Only the HTTP status promises "not processed": a 20429 code under another status is not retried.
    ["20429 in a 503: outcome unknown", restError(503, 20429), { kind: "unknown", reason: "provider_5xx", code: 20429 }],
    ["20429 in a 400: refused", restError(400, 20429), { kind: "provider_rejected", reason: "provider_4xx", code: 20429 }],
    ["a destination code in a 5xx is still a 5xx", restError(500, 21211), { kind: "unknown", reason: "provider_5xx", code: 21211 }],
    ["21606 bad From: ours, not the destination's", restError(400, 21606), { kind: "provider_rejected", reason: "provider_4xx", code: 21606 }],
    ["20003 bad credentials", restError(401, 20003), { kind: "provider_rejected", reason: "provider_4xx", code: 20003 }],
    ["a 307 redirect (never followed)", restError(307), { kind: "provider_rejected", reason: "redirect", code: 307 }],
    ["a 308 redirect (never followed)", restError(308), { kind: "provider_rejected", reason: "redirect", code: 308 }],
    ["500", restError(500, 20500), { kind: "unknown", reason: "provider_5xx", code: 20500 }],
    ["503 without a code", restError(503), { kind: "unknown", reason: "provider_5xx" }],
    ["a non-JSON 2xx", new SyntaxError("Unexpected token <"), { kind: "unknown", reason: "invalid_response" }],
    ["a reset after writing", Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }), { kind: "unknown", reason: "network" }],
    ["a resend the runtime attempted", Object.assign(new Error("again"), { name: "ResendRefusedError" }), { kind: "unknown", reason: "network" }],
    ["an abort after writing", Object.assign(new Error("aborted"), { name: "AbortError" }), { kind: "unknown", reason: "deadline" }],
  ])("%s", (_label, err, expected) => {
    expect(classifyTwilioFailure(err, written)).toEqual(expected);
  });

  it.each([
    ["a refused connection", Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }), false, { kind: "provider_rejected", reason: "not_connected" }],
    ["an unknown host", Object.assign(new Error("getaddrinfo ENOTFOUND"), { code: "ENOTFOUND" }), false, { kind: "provider_rejected", reason: "not_connected" }],
    ["an abort while waiting for a connection", Object.assign(new Error("aborted"), { name: "AbortError" }), false, { kind: "not_started" }],
    ["no time left when the connection came", Object.assign(new Error("late"), { name: "AttemptNotStartedError" }), false, { kind: "not_started" }],
    ["anything once the deadline passed", Object.assign(new Error("reset"), { code: "ECONNRESET" }), true, { kind: "not_started" }],
  ])("before anything was written: %s", (_label, err, deadlinePassed, expected) => {
    expect(classifyTwilioFailure(err, { deadlinePassed, written: false })).toEqual(expected);
  });

  it("calls a dropped connection after the deadline an unknown outcome cut off by the deadline", () => {
    expect(classifyTwilioFailure(Object.assign(new Error("reset"), { code: "ECONNRESET" }), { deadlinePassed: true, written: true })).toEqual({
      kind: "unknown",
      reason: "deadline",
    });
  });

  it("keeps a 429's Retry-After", () => {
    expect(classifyTwilioFailure(restError(429, 20429), { ...written, retryAfterMs: 1000 })).toEqual({
      kind: "rate_limited",
      retryAfterMs: 1000,
    });
  });
});

describe("MESSAGE_SID", () => {
  it.each([
    [`SM${"0a".repeat(16)}`, true],
    [`MM${"F".repeat(32)}`, true],
    [`SM${"0".repeat(31)}`, false],
    [`XX${"0".repeat(32)}`, false],
    ["", false],
  ])("%s → %s", (sid, ok) => {
    expect(MESSAGE_SID.test(sid)).toBe(ok);
  });
});

describe("parseRetryAfter", () => {
  it.each([
    ["1", 1000],
    ["0.5", 500],
    [2, 2000],
    ["Wed, 21 Oct 2015 07:28:00 GMT", undefined],
    ["-1", undefined],
    [undefined, undefined],
  ])("%s → %s ms", (input, expected) => {
    expect(parseRetryAfter(input)).toBe(expected);
  });
});

describe("chooseSender", () => {
  const from = { kind: "from", from: "+15005550006" } as const;
  const service = { kind: "messagingService", messagingServiceSid: `MG${"0".repeat(32)}` } as const;
  const uk = parseE164("+447911123456")!;
  const us = parseE164("+14155552671")!;
  const ca = parseE164("+16135550123")!;
  const pr = parseE164("+17875550123")!;
  const unknownNanp = { e164: "+18005550100", callingCode: "1", country: undefined };

  it.each([
    ["opted out: the configured number", from, false, uk, "Acme", { from: "+15005550006" }],
    ["opted in, UK: the sender ID", from, true, uk, "Acme", { from: "Acme" }],
    ["opted in, US: never alphanumeric", from, true, us, "Acme", { from: "+15005550006" }],
    ["opted in, CA: never alphanumeric", from, true, ca, "Acme", { from: "+15005550006" }],
    ["opted in, PR: never alphanumeric", from, true, pr, "Acme", { from: "+15005550006" }],
    ["opted in, +1 of unknown region: treated as US", from, true, unknownNanp, "Acme", { from: "+15005550006" }],
    ["opted in, no sender ID", from, true, uk, undefined, { from: "+15005550006" }],
    ["opted in, digits only is not alphanumeric", from, true, uk, "12345", { from: "+15005550006" }],
    ["opted in, punctuation is not allowed", from, true, uk, "Acme!", { from: "+15005550006" }],
    ["service, opted out", service, false, uk, "Acme", { messagingServiceSid: service.messagingServiceSid }],
    ["service, opted in, UK", service, true, uk, "Acme", { messagingServiceSid: service.messagingServiceSid, from: "Acme" }],
    ["service, opted in, US", service, true, us, "Acme", { messagingServiceSid: service.messagingServiceSid }],
  ])("%s", (_label, sender, useSenderId, to, senderId, expected) => {
    expect(chooseSender({ sender, useSenderId }, to, senderId)).toEqual(expected);
  });
});

describe("rewriteUri", () => {
  const uri = `https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json`;
  it.each([
    ["the default base leaves it alone", "https://api.twilio.com", uri],
    ["a local mock", "http://127.0.0.1:4010", "http://127.0.0.1:4010/2010-04-01/Accounts/AC1/Messages.json"],
    ["a proxy with a path prefix", "https://proxy.example/twilio/", "https://proxy.example/twilio/2010-04-01/Accounts/AC1/Messages.json"],
  ])("%s", (_label, base, expected) => {
    expect(rewriteUri(uri, base).toString()).toBe(expected);
  });

  it("appends query params form-style", () => {
    expect(rewriteUri(uri, "http://127.0.0.1:1", { PageSize: 20, To: ["a", "b"] }).search).toBe("?PageSize=20&To=a&To=b");
  });
});
