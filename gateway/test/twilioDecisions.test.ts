import { describe, expect, it } from "vitest";
import { parseE164 } from "../src/phone.ts";
import { classifyTwilioFailure, parseRetryAfter } from "../src/providers/twilio/classify.ts";
import { rewriteUri } from "../src/providers/twilio/httpClient.ts";
import { chooseSender } from "../src/providers/twilio/sender.ts";

function restError(status: number, code?: number) {
  return Object.assign(new Error(`HTTP ${status}`), { status, code });
}

describe("classifyTwilioFailure", () => {
  it.each([
    ["21211 invalid To", restError(400, 21211), { kind: "rejected", code: 21211 }],
    ["21408 geo permission", restError(400, 21408), { kind: "rejected", code: 21408 }],
    ["21610 unsubscribed", restError(400, 21610), { kind: "rejected", code: 21610 }],
    ["21612 unreachable", restError(400, 21612), { kind: "rejected", code: 21612 }],
    ["21614 not a mobile", restError(400, 21614), { kind: "rejected", code: 21614 }],
    ["429", restError(429, 20429), { kind: "rate_limited", retryAfterMs: undefined }],
    ["20429 with another status", restError(400, 20429), { kind: "rate_limited", retryAfterMs: undefined }],
    ["21606 bad From: ours, not the destination's", restError(400, 21606), { kind: "failed", reason: "provider_4xx", code: 21606 }],
    ["20003 bad credentials", restError(401, 20003), { kind: "failed", reason: "provider_4xx", code: 20003 }],
    ["500", restError(500, 20500), { kind: "failed", reason: "provider_5xx", code: 20500 }],
    ["503 without a code", restError(503), { kind: "failed", reason: "provider_5xx" }],
    ["a non-JSON 2xx", new SyntaxError("Unexpected token <"), { kind: "failed", reason: "invalid_response" }],
    ["a reset", Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }), { kind: "failed", reason: "network" }],
    ["a refusal", Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }), { kind: "failed", reason: "network" }],
    ["an abort", Object.assign(new Error("aborted"), { name: "AbortError" }), { kind: "timeout" }],
  ])("%s", (_label, err, expected) => {
    expect(classifyTwilioFailure(err, { deadlinePassed: false })).toEqual(expected);
  });

  it("calls anything after the deadline a timeout, even a reset", () => {
    expect(classifyTwilioFailure(Object.assign(new Error("reset"), { code: "ECONNRESET" }), { deadlinePassed: true })).toEqual({
      kind: "timeout",
    });
  });

  it("keeps a 429's Retry-After", () => {
    expect(classifyTwilioFailure(restError(429, 20429), { deadlinePassed: false, retryAfterMs: 1000 })).toEqual({
      kind: "rate_limited",
      retryAfterMs: 1000,
    });
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
