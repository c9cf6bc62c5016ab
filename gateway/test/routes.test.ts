import { describe, expect, it } from "vitest";
import { parseRoutes, pickRoute, providersIn, singleRoute, type RoutingTable } from "../src/delivery/routes.ts";
import { alphanumericAllowed, chooseSender, senderKind } from "../src/delivery/senderRules.ts";
import { parseE164 } from "../src/phone.ts";

const options = { defaultUseSenderId: (p: string) => p === "twilio" };
const MG = `MG${"ab".repeat(16)}`;

function table(text: string): RoutingTable {
  const parsed = parseRoutes(text, options);
  if (!parsed.ok) throw new Error(`expected a table, got: ${parsed.problems.join("; ")}`);
  return parsed.table;
}

function problems(text: string): string[] {
  const parsed = parseRoutes(text, options);
  if (parsed.ok) throw new Error("expected the table to be refused");
  return parsed.problems;
}

describe("SMS_ROUTES accepted", () => {
  const example = JSON.stringify({
    US: [{ provider: "twilio", from: "+14155550100" }, { provider: "telnyx", from: "+14155550111" }],
    CA: [{ provider: "telnyx" }],
    PR: [{ provider: "twilio", from: MG }],
    DE: [{ provider: "telnyx", from: "Acme", use_sender_id: true }, { provider: "smc" }],
    "*": [{ provider: "twilio", use_sender_id: false }, { provider: "smc" }],
  });

  it("parses the README's US + EU example, defaulting use_sender_id per provider", () => {
    const t = table(example);
    expect(t.byCountry.get("US")).toEqual([
      { provider: "twilio", from: "+14155550100", useSenderId: true },
      { provider: "telnyx", from: "+14155550111", useSenderId: false },
    ]);
    expect(t.byCountry.get("DE")).toEqual([
      { provider: "telnyx", from: "Acme", useSenderId: true },
      { provider: "smc", useSenderId: false },
    ]);
    expect(t.fallback).toEqual([
      { provider: "twilio", useSenderId: false },
      { provider: "smc", useSenderId: false },
    ]);
    expect([...providersIn(t)].sort()).toEqual(["smc", "telnyx", "twilio"]);
  });

  it.each([
    ["a US number takes the US route", "+14155552671", "US"],
    ["a German number takes its own route", "+4915112345678", "DE"],
    ["a French number falls back to *", "+33612345678", "*"],
    ["a Canadian number is not routed as US", "+16135550123", "CA"],
    ["a Puerto Rican number is not routed as US", "+17875550123", "PR"],
  ])("%s", (_label, phone, key) => {
    expect(pickRoute(table(example), parseE164(phone)!)?.key).toBe(key);
  });

  it("has no route for a country without its own and no *", () => {
    const t = table(JSON.stringify({ US: [{ provider: "twilio" }] }));
    expect(pickRoute(t, parseE164("+33612345678")!)).toBeUndefined();
    expect(pickRoute(t, parseE164("+14155552671")!)?.key).toBe("US");
  });

  it("routes a number whose region is unknown through *", () => {
    const t = table(JSON.stringify({ US: [{ provider: "twilio" }], "*": [{ provider: "telnyx" }] }));
    expect(pickRoute(t, { e164: "+80012345678", callingCode: "800", country: undefined })?.key).toBe("*");
  });

  it("without SMS_ROUTES: one route, every country, SMS_PROVIDER", () => {
    const t = singleRoute("twilio", true);
    for (const phone of ["+14155552671", "+4915112345678"]) {
      expect(pickRoute(t, parseE164(phone)!)).toEqual({ key: "*", entries: [{ provider: "twilio", useSenderId: true }] });
    }
  });

  it("accepts an alphanumeric from on * when US, CA and PR have routes of their own", () => {
    const t = table(
      JSON.stringify({ US: [{ provider: "twilio" }], CA: [{ provider: "twilio" }], PR: [{ provider: "twilio" }], "*": [{ provider: "telnyx", from: "Acme" }] }),
    );
    expect(t.fallback).toEqual([{ provider: "telnyx", from: "Acme", useSenderId: false }]);
  });
});

describe("SMS_ROUTES refused at startup, each problem named", () => {
  it.each([
    ["invalid JSON", "{US: [twilio]}", ["SMS_ROUTES is not valid JSON"]],
    ["a list instead of an object", "[]", ["SMS_ROUTES must be a JSON object of country code → list of providers, not a list"]],
    ["no routes at all", "{}", ['SMS_ROUTES has no routes (give at least "*")']],
    ["an unknown country code", '{"XX": [{"provider": "twilio"}]}', ['SMS_ROUTES: "XX" is not an ISO 3166-1 alpha-2 country code or "*"']],
    ["UK instead of GB", '{"UK": [{"provider": "twilio"}]}', ['SMS_ROUTES: "UK" is not an ISO 3166-1 alpha-2 code (did you mean "GB"?)']],
    ["a lower-case code", '{"de": [{"provider": "twilio"}]}', ['SMS_ROUTES: "de" must be written in capitals ("DE")']],
    ["an empty list", '{"DE": []}', ["SMS_ROUTES.DE: the list of providers is empty"]],
    ["a provider name instead of a list", '{"DE": "twilio"}', ["SMS_ROUTES.DE must be a list of providers, not a string"]],
    ["a bare name in the list", '{"DE": ["twilio"]}', ['SMS_ROUTES.DE[0] must be an object like {"provider": "twilio"}, not a string']],
    ["an unknown provider", '{"DE": [{"provider": "vonage"}]}', ['SMS_ROUTES.DE[0]: unknown provider "vonage" (use twilio, smc or telnyx)']],
    ["the log provider", '{"*": [{"provider": "log"}]}', ['SMS_ROUTES.*[0]: unknown provider "log" (use twilio, smc or telnyx)']],
    ["no provider", '{"DE": [{"from": "+4915112345678"}]}', ['SMS_ROUTES.DE[0]: "provider" is required (twilio, smc or telnyx)']],
    [
      "a misspelt field",
      '{"DE": [{"provider": "twilio", "form": "+4915112345678"}]}',
      ['SMS_ROUTES.DE[0]: unknown field "form" (use provider, from, use_sender_id)'],
    ],
    ["from on smc", '{"DE": [{"provider": "smc", "from": "12345"}]}', [expect.stringContaining('SMS_ROUTES.DE[0]: "from" is not accepted for smc')]],
    ["use_sender_id on smc", '{"DE": [{"provider": "smc", "use_sender_id": true}]}', [expect.stringContaining('SMS_ROUTES.DE[0]: "use_sender_id" is not accepted for smc')]],
    ["use_sender_id not a boolean", '{"DE": [{"provider": "twilio", "use_sender_id": "yes"}]}', ['SMS_ROUTES.DE[0]: "use_sender_id" must be true or false']],
    ["a malformed from", '{"DE": [{"provider": "telnyx", "from": "Acme Corporation Ltd"}]}', [expect.stringContaining('SMS_ROUTES.DE[0]: "from" must be an E.164 number')]],
    ["a Messaging Service on telnyx", `{"DE": [{"provider": "telnyx", "from": "${MG}"}]}`, ["SMS_ROUTES.DE[0]: a Messaging Service SID (MG…) is a Twilio sender, not a telnyx one"]],
    ...(["US", "CA", "PR"] as const).map((country) => [
      `an alphanumeric from on ${country}`,
      `{"${country}": [{"provider": "twilio", "from": "Acme"}]}`,
      [`SMS_ROUTES.${country}[0]: an alphanumeric "from" cannot be used on this route: US, CA, PR refuse alphanumeric senders`],
    ]),
    [
      "an alphanumeric from on * that reaches the US",
      '{"CA": [{"provider": "twilio"}], "PR": [{"provider": "twilio"}], "*": [{"provider": "twilio", "from": "Acme"}]}',
      ['SMS_ROUTES.*[0]: an alphanumeric "from" cannot be used on this route: US, CA, PR refuse alphanumeric senders (give them routes of their own to use one on "*")'],
    ],
  ] as [string, string, unknown[]][])("%s", (_label, text, expected) => {
    expect(problems(text)).toEqual(expected);
  });

  it("names every problem of a table at once", () => {
    const found = problems(
      JSON.stringify({
        XX: [{ provider: "twilio" }],
        DE: [],
        FR: [{ provider: "vonage" }, { provider: "smc", from: "12345" }],
        US: [{ provider: "telnyx", from: "Acme" }],
      }),
    );
    expect(found).toHaveLength(5);
    expect(found.join("\n")).toMatch(/"XX"[\s\S]*SMS_ROUTES\.DE[\s\S]*FR\[0\][\s\S]*FR\[1\][\s\S]*US\[0\]/);
  });
});

describe("sender rules", () => {
  const uk = parseE164("+447911123456")!;
  const us = parseE164("+14155552671")!;
  const ca = parseE164("+16135550123")!;
  const pr = parseE164("+17875550123")!;
  const unknownNanp = { e164: "+18005550100", callingCode: "1", country: undefined };
  const unknownElsewhere = { e164: "+80012345678", callingCode: "800", country: undefined };

  it.each([
    [uk, true],
    [us, false],
    [ca, false],
    [pr, false],
    [unknownNanp, false],
    [unknownElsewhere, true],
  ])("alphanumeric senders to %o: %s", (to, allowed) => {
    expect(alphanumericAllowed(to)).toBe(allowed);
  });

  it.each([
    ["+14155550100", "e164"],
    ["12345", "short_code"],
    [MG, "messaging_service"],
    ["Acme", "alphanumeric"],
    ["Acme Ltd 1", "alphanumeric"],
    ["12345678901", undefined],
    ["Acme!", undefined],
    ["Acme Corporation", undefined],
    ["+0123456", undefined],
    ["", undefined],
  ])("%s is %s", (sender, kind) => {
    expect(senderKind(sender)).toBe(kind);
  });

  it.each([
    ["opted in, UK: Mosaic's sender_id", { useSenderId: true }, uk, "Acme", { alphanumeric: "Acme" }],
    ["opted out: nothing (the provider's default)", { useSenderId: false }, uk, "Acme", {}],
    ["opted in, US: never alphanumeric", { useSenderId: true }, us, "Acme", {}],
    ["opted in, +1 of unknown region: treated as US", { useSenderId: true }, unknownNanp, "Acme", {}],
    ["opted in, digits only is not alphanumeric", { useSenderId: true }, uk, "12345", {}],
    ["opted in, punctuation refused", { useSenderId: true }, uk, "Acme!", {}],
    ["the entry's number", { from: "+14155550100", useSenderId: false }, us, "Acme", { from: "+14155550100" }],
    ["the entry's number beside the sender_id", { from: "+447700900100", useSenderId: true }, uk, "Acme", { alphanumeric: "Acme", from: "+447700900100" }],
    ["the entry's alphanumeric from to the UK", { from: "Acme", useSenderId: false }, uk, undefined, { from: "Acme" }],
    ["the entry's alphanumeric from dropped for a +1 of unknown region", { from: "Acme", useSenderId: false }, unknownNanp, undefined, {}],
  ] as const)("%s", (_label, entry, to, senderId, expected) => {
    expect(chooseSender(entry, to, senderId)).toEqual(expected);
  });
});
