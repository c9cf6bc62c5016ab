import { describe, expect, it } from "vitest";
import { GatewayError } from "../src/errors.ts";
import { maskPhone, parseE164 } from "../src/phone.ts";
import { parseSmsRequest } from "../src/smsRequest.ts";

describe("parseE164", () => {
  it.each([
    ["+14155552671", "1", "US"],
    ["+442071838750", "44", "GB"],
    ["+16135550123", "1", "CA"],
    ["+17875550123", "1", "PR"],
    ["+4915123456789", "49", "DE"],
  ])("accepts %s", (input, callingCode, country) => {
    expect(parseE164(input)).toEqual({ e164: input, callingCode, country });
  });

  it.each([
    ["no plus", "14155552671"],
    ["spaces", "+1 415 555 2671"],
    ["dashes", "+1-415-555-2671"],
    ["letters", "+1415CALLNOW"],
    ["too short", "+1415"],
    ["too long", "+1415555267112345"],
    ["leading zero country", "+0415555267"],
    ["unassigned range", "+19995552671"],
    ["empty", ""],
    ["only plus", "+"],
    ["trailing newline", "+14155552671\n"],
    ["unicode digits", "+١٤١٥٥٥٥٢٦٧١"],
  ])("rejects %s", (_label, input) => {
    expect(parseE164(input)).toBeUndefined();
  });
});

describe("maskPhone", () => {
  it.each([
    ["+14155552671", "1", "+1********71"],
    ["+447911123456", "44", "+44********56"],
  ])("%s keeps the country code and the last two digits", (e164, cc, masked) => {
    expect(maskPhone(e164, cc)).toBe(masked);
  });
});

describe("parseSmsRequest", () => {
  const valid = { phone_number: "+14155552671", sender_id: "Acme", message: "Your code is 123456" };

  it("parses Mosaic's body", () => {
    const sms = parseSmsRequest(valid);
    expect(sms.destination.e164).toBe("+14155552671");
    expect(sms.senderId).toBe("Acme");
    expect(sms.message).toBe("Your code is 123456");
  });

  it.each([
    ["absent", {}],
    ["empty", { sender_id: "" }],
    ["blank", { sender_id: "   " }],
    ["null", { sender_id: null }],
  ])("treats a sender_id that is %s as none", (_label, patch) => {
    const body: Record<string, unknown> = { ...valid, ...patch };
    if (!("sender_id" in patch)) delete body.sender_id;
    expect(parseSmsRequest(body).senderId).toBeUndefined();
  });

  it("ignores fields it does not know", () => {
    expect(parseSmsRequest({ ...valid, extra: { nested: true } }).message).toBe(valid.message);
  });

  it.each([
    ["line breaks and a tab", "Your code is:\r\n\t123456"],
    ["an emoji (a surrogate pair)", "Your code is 123456 \u{1F510}"],
    ["accents and non-Latin scripts", "Votre code : 123456 · Ваш код 123456 · 您的验证码 123456"],
    ["a zero-width joiner inside visible text", "Code 123456 \u{1F469}\u200D\u{1F4BB}"],
  ])("accepts a message with %s", (_label, message) => {
    expect(parseSmsRequest({ ...valid, message }).message).toBe(message);
  });

  // Issue 8, item 16: a sender_id over 11 characters was a 400 even when sender ids are not used. It only ever
  // chooses the sender where valid (providers/twilio/sender.ts); an OTP is never refused for it.
  it.each(["TwelveChars!", "A sender id far longer than eleven", "Acme Bank Ltd"])("accepts sender_id %j (the provider decides whether to use it)", (senderId) => {
    expect(parseSmsRequest({ ...valid, sender_id: senderId }).senderId).toBe(senderId);
  });

  it("accepts a message of exactly 1600 characters", () => {
    expect(parseSmsRequest({ ...valid, message: "x".repeat(1600) }).message).toHaveLength(1600);
  });

  it.each([
    ["not an object", "hello", "body must be a JSON object"],
    ["null", null, "body must be a JSON object"],
    ["an array", [valid], "body must be a JSON object"],
    ["no phone", { ...valid, phone_number: undefined }, "phone_number is required"],
    ["a numeric phone", { ...valid, phone_number: 14155552671 }, "phone_number is required"],
    ["a non-E.164 phone", { ...valid, phone_number: "(415) 555-2671" }, "phone_number must be a valid E.164"],
    ["no message", { ...valid, message: undefined }, "message is required"],
    ["an empty message", { ...valid, message: "" }, "message is required"],
    ["a blank message", { ...valid, message: " \n " }, "message is required"],
    ["a numeric message", { ...valid, message: 123456 }, "message is required"],
    ["a message over 1600", { ...valid, message: "x".repeat(1601) }, "at most 1600"],
    ["a numeric sender_id", { ...valid, sender_id: 42 }, "sender_id must be a string"],
    // Issue 8, item 15: each of these was forwarded to the provider.
    ["only zero-width spaces", { ...valid, message: "\u200B\u200B\u200B" }, "message must contain visible text"],
    ["only joiners, a BOM and spaces", { ...valid, message: " \u200D\uFEFF\u200C \u2060" }, "message must contain visible text"],
    ["a NUL", { ...valid, message: "Your code is\u0000 123456" }, "message must not contain control characters"],
    ["an ESC", { ...valid, message: "\u001B[31mYour code is 123456" }, "message must not contain control characters"],
    ["a DEL", { ...valid, message: "Your code\u007F is 123456" }, "message must not contain control characters"],
    ["a C1 control", { ...valid, message: "Your code\u0085 is 123456" }, "message must not contain control characters"],
    ["a lone high surrogate", { ...valid, message: "Your code is 123456 \uD83D" }, "message must be valid Unicode text"],
    ["a lone low surrogate", { ...valid, message: "\uDE00 Your code is 123456" }, "message must be valid Unicode text"],
  ])("rejects %s with a 400 naming the field", (_label, body, text) => {
    let caught: unknown;
    try {
      parseSmsRequest(body);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(GatewayError);
    expect((caught as GatewayError).status).toBe(400);
    expect((caught as GatewayError).message).toContain(text);
  });

  it("never repeats the message text in an error", () => {
    try {
      parseSmsRequest({ ...valid, phone_number: "nope", message: "Your code is 987654" });
    } catch (err) {
      expect((err as Error).message).not.toContain("987654");
      return;
    }
    throw new Error("expected a rejection");
  });
});
