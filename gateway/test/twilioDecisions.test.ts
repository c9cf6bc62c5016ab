import { describe, expect, it } from "vitest";
import { chooseSender } from "../src/delivery/senderRules.ts";
import { parseE164 } from "../src/phone.ts";
import { parseRetryAfter } from "../src/providers/answer.ts";
import { classifyTwilioFailure, classifyTwilioMessage, MESSAGE_SID } from "../src/providers/twilio/classify.ts";
import { rewriteUri } from "../src/providers/twilio/httpClient.ts";
import { twilioSender } from "../src/providers/twilio/sender.ts";

function restError(status: number, code?: number) {
  return Object.assign(new Error(`HTTP ${status}: the 'To' number +14155552671 is not valid`), { status, code });
}

const named = (name: string, extra: Record<string, unknown> = {}) => Object.assign(new Error(name), { name, ...extra });

describe("classifyTwilioFailure", () => {
  const written = { deadlinePassed: false, written: true };
  it.each([
    ["21211 invalid To", restError(400, 21211), { kind: "destination_rejected", code: "21211" }],
    ["21265 To is a short code", restError(400, 21265), { kind: "destination_rejected", code: "21265" }],
    ["21610 unsubscribed (STOP)", restError(400, 21610), { kind: "destination_rejected", code: "21610" }],
    ["21614 not a mobile", restError(400, 21614), { kind: "destination_rejected", code: "21614" }],
    ["21635 a landline", restError(400, 21635), { kind: "destination_rejected", code: "21635" }],
    // Ours, not the number's: another provider may succeed.
    ["21408 geo permission: ours", restError(400, 21408), { kind: "provider_rejected", code: "21408" }],
    ["21612 To/From pair not routable: ours", restError(400, 21612), { kind: "provider_rejected", code: "21612" }],
    ["21606 bad From: ours", restError(400, 21606), { kind: "provider_rejected", code: "21606" }],
    ["21608 unverified on a trial account: ours", restError(400, 21608), { kind: "provider_rejected", code: "21608" }],
    ["20003 bad credentials: ours", restError(401, 20003), { kind: "provider_rejected", code: "20003" }],
    ["429 → throttled", restError(429, 20429), { kind: "provider_rejected", code: "20429", throttled: true }],
    ["429 without a code → throttled", restError(429), { kind: "provider_rejected", code: "429", throttled: true }],
    // Only the HTTP status promises "not processed": a 20429 code under another status is not a throttle.
    ["20429 in a 503: outcome unknown", restError(503, 20429), { kind: "unknown", code: "20429" }],
    ["20429 in a 400: refused, not throttled", restError(400, 20429), { kind: "provider_rejected", code: "20429" }],
    ["a destination code in a 5xx is still a 5xx", restError(500, 21211), { kind: "unknown", code: "21211" }],
    ["a 307 redirect (never followed)", restError(307), { kind: "provider_rejected", code: "307" }],
    ["a 308 redirect (never followed)", restError(308), { kind: "provider_rejected", code: "308" }],
    ["500", restError(500, 20500), { kind: "unknown", code: "20500" }],
    ["503 without a code", restError(503), { kind: "unknown", code: "503" }],
    ["a non-JSON 2xx", new SyntaxError("Unexpected token <"), { kind: "unknown", code: "invalid_response" }],
    ["a reset after writing", Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }), { kind: "unknown", code: "network" }],
    ["a resend the runtime attempted", named("ResendRefusedError"), { kind: "unknown", code: "network" }],
    ["an answer over 1 MiB", named("ResponseTooLargeError"), { kind: "unknown", code: "too_large" }],
    ["an abort after writing", named("AbortError"), { kind: "unknown", code: "deadline" }],
  ])("%s", (_label, err, expected) => {
    const outcome = classifyTwilioFailure(err, written);
    expect(outcome).toMatchObject(expected);
    if (!("throttled" in expected)) expect(outcome).not.toHaveProperty("throttled");
    // Twilio's message quotes the number: it never reaches the outcome (nor the log line).
    expect(JSON.stringify(outcome)).not.toContain("4155552671");
  });

  it.each([
    ["a refused connection", Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }), false, "not_connected"],
    ["an unknown host", Object.assign(new Error("getaddrinfo ENOTFOUND"), { code: "ENOTFOUND" }), false, "not_connected"],
    ["an abort while waiting for a connection", named("AbortError"), false, "not_started"],
    ["no time left when the connection came", named("AttemptNotStartedError"), false, "not_started"],
    ["anything once the deadline passed", Object.assign(new Error("reset"), { code: "ECONNRESET" }), true, "not_started"],
  ])("before anything was written, %s: certainly not sent", (_label, err, deadlinePassed, code) => {
    expect(classifyTwilioFailure(err, { deadlinePassed, written: false })).toMatchObject({ kind: "provider_rejected", code });
  });

  it("calls a dropped connection after the deadline an unknown outcome cut off by the deadline", () => {
    expect(classifyTwilioFailure(Object.assign(new Error("reset"), { code: "ECONNRESET" }), { deadlinePassed: true, written: true })).toMatchObject({
      kind: "unknown",
      code: "deadline",
    });
  });

  it("keeps a 429's Retry-After", () => {
    expect(classifyTwilioFailure(restError(429, 20429), { ...written, retryAfterMs: 1000 })).toMatchObject({
      kind: "provider_rejected",
      throttled: true,
      retryAfterMs: 1000,
    });
  });
});

describe("classifyTwilioMessage", () => {
  it.each([
    [{ sid: `SM${"0a".repeat(16)}` }, { kind: "sent", id: `SM${"0a".repeat(16)}` }],
    [{ sid: null }, { kind: "unknown", code: "invalid_response" }],
    [{}, { kind: "unknown", code: "invalid_response" }],
    [{ sid: "SM-not-a-sid" }, { kind: "unknown", code: "invalid_response" }],
  ])("%o → %o", (message, expected) => {
    expect(classifyTwilioMessage(message)).toMatchObject(expected);
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

describe("Twilio's sender parameters", () => {
  const from = { kind: "from", from: "+15005550006" } as const;
  const service = { kind: "messagingService", messagingServiceSid: `MG${"0".repeat(32)}` } as const;
  const MG = `MG${"1".repeat(32)}`;
  const uk = parseE164("+447911123456")!;
  const us = parseE164("+14155552671")!;
  const ca = parseE164("+16135550123")!;
  const pr = parseE164("+17875550123")!;
  const unknownNanp = { e164: "+18005550100", callingCode: "1", country: undefined };

  // TWILIO_USE_SENDER_ID as it always worked: the route entry's use_sender_id defaults to it.
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
    ["opted in, over 11 characters: the configured number", from, true, uk, "AcmeBankLtd1", { from: "+15005550006" }],
    ["service, opted out", service, false, uk, "Acme", { messagingServiceSid: service.messagingServiceSid }],
    ["service, opted in, UK", service, true, uk, "Acme", { messagingServiceSid: service.messagingServiceSid, from: "Acme" }],
    ["service, opted in, US", service, true, us, "Acme", { messagingServiceSid: service.messagingServiceSid }],
  ])("%s", (_label, sender, useSenderId, to, senderId, expected) => {
    expect(twilioSender(sender, chooseSender({ useSenderId }, to, senderId))).toEqual(expected);
  });

  it.each([
    ["the entry's number replaces the configured one", from, { from: "+14155550100" }, { from: "+14155550100" }],
    ["the entry's number replaces a configured service", service, { from: "+14155550100" }, { from: "+14155550100" }],
    ["the entry's service replaces the configured number", from, { from: MG }, { messagingServiceSid: MG }],
    ["the entry's service with Mosaic's sender_id", from, { from: MG, alphanumeric: "Acme" }, { messagingServiceSid: MG, from: "Acme" }],
    ["the entry's alphanumeric id", from, { from: "Acme" }, { from: "Acme" }],
  ])("%s", (_label, sender, choice, expected) => {
    expect(twilioSender(sender, choice)).toEqual(expected);
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
