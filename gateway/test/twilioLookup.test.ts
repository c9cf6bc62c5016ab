/**
 * Twilio's look-up of an earlier send whose answer was lost (issue 11), through the real `twilio` SDK and the
 * gateway's transport against the fake Twilio's Messages list, which applies `To` and `DateSent>` as Twilio
 * documents them. And the pure half (lookup.ts): which listed message is ours.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startFakeTwilio, type FakeTwilio } from "../../scripts/emulators/twilio.ts";
import { parseE164 } from "../src/phone.ts";
import type { LookupAnswer, SmsProvider } from "../src/providers/provider.ts";
import { createHttpTransport, type HttpTransport } from "../src/providers/transport.ts";
import { createTwilioProvider } from "../src/providers/twilio/index.ts";
import { CLOCK_SKEW_MS, dateSentAfter, findSent, MAX_PAGES, PAGE_SIZE } from "../src/providers/twilio/lookup.ts";
import { ACCOUNT_SID, AUTH_TOKEN, twilioConfig } from "./support.ts";

const TO = "+14155552671";
const TEXT = "Your Acme verification code is: 493817";
const SID = (n: number) => `SM${n.toString(16).padStart(32, "0")}`;

describe("lookup.ts: which listed message is this SMS", () => {
  const since = Date.parse("2025-03-01T12:00:00Z");
  const ours = { sid: SID(1), to: TO, body: TEXT, direction: "outbound-api", dateCreated: new Date(since + 200) };

  it("DateSent> is the GMT date of the earliest moment, the skew included (midnight moves it back a day)", () => {
    expect(dateSentAfter(since)).toBe("2025-03-01");
    expect(dateSentAfter(Date.parse("2025-03-01T00:02:00Z"))).toBe("2025-02-28");
  });

  it.each<[string, Record<string, unknown>, string | undefined]>([
    ["the same recipient, text and direction", {}, SID(1)],
    ["another text", { body: `${TEXT}0` }, undefined],
    ["another recipient", { to: "+14155552672" }, undefined],
    ["an inbound message", { direction: "inbound" }, undefined],
    ["created before the earliest attempt, less the skew", { dateCreated: new Date(since - CLOCK_SKEW_MS - 1000) }, undefined],
    ["created a little before (clocks differ)", { dateCreated: new Date(since - 30_000) }, SID(1)],
    ["no usable date (counted as recent)", { dateCreated: new Date(Number.NaN) }, SID(1)],
    ["a sid that is not a Message SID", { sid: "XX123" }, undefined],
    ["no body (redacted)", { body: null }, undefined],
  ])("%s", (_label, change, expected) => {
    expect(findSent([{ ...ours, ...change }], TO, TEXT, since)).toBe(expected);
  });
});

describe("Twilio lookup through the SDK against the fake's Messages list", () => {
  let fake: FakeTwilio;
  let transport: HttpTransport;
  let twilio: SmsProvider;
  const sms = { to: parseE164(TO)!, body: TEXT, senderId: undefined };

  beforeAll(async () => {
    fake = await startFakeTwilio();
    transport = createHttpTransport({ maxSockets: 4 });
    twilio = createTwilioProvider(twilioConfig(fake.url), { transport });
  });
  afterAll(async () => {
    transport.close();
    await fake.close();
  });
  beforeEach(() => fake.reset());

  function lookup(since = Date.now() - 1000, budgetMs = 5000): Promise<LookupAnswer> {
    return twilio.lookup!(sms, { since, signal: AbortSignal.timeout(budgetMs), startBy: Date.now() + budgetMs });
  }

  function attempt() {
    const deadline = Date.now() + 2000;
    return twilio.attempt(sms, { signal: AbortSignal.timeout(2000), deadline, startBy: deadline, sender: {} });
  }

  /** Other messages to the same number, straight to the fake (not through the gateway). */
  async function sendOthers(count: number): Promise<void> {
    const auth = `Basic ${Buffer.from(`${ACCOUNT_SID}:${AUTH_TOKEN}`).toString("base64")}`;
    for (let i = 0; i < count; i++) {
      const res = await fetch(`${fake.url}/2010-04-01/Accounts/${ACCOUNT_SID}/Messages.json`, {
        method: "POST",
        headers: { Authorization: auth, "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ To: TO, From: "+15005550006", Body: `Your code is ${100000 + i}` }),
      });
      expect(res.status).toBe(201);
    }
  }

  it("a send whose connection reset after the request is found, by the SID Twilio gave it", async () => {
    fake.enqueue({ kind: "reset" });
    const since = Date.now();
    expect((await attempt()).kind).toBe("unknown");
    expect(await lookup(since)).toEqual({ found: fake.created[0]!.sid });
    // One read: To and DateSent>= the day, as Twilio documents them; nothing written.
    expect(fake.lists).toEqual([
      { query: { To: TO, "DateSent>": dateSentAfter(since), PageSize: String(PAGE_SIZE) }, answeredWith: 200 },
    ]);
    expect(fake.received).toHaveLength(1);
  });

  it("a 500 after which Twilio created the message is found; a 500 that created nothing is absent", async () => {
    fake.enqueue({ kind: "error", status: 500, code: 20500, created: true });
    const since = Date.now();
    await attempt();
    expect(await lookup(since)).toEqual({ found: fake.created[0]!.sid });
    fake.reset();
    fake.enqueue({ kind: "error", status: 500, code: 20500 });
    await attempt();
    expect(await lookup(since)).toBe("absent");
  });

  it("nothing sent, or another text: absent, after the filtered list and the newest unfiltered page", async () => {
    await sendOthers(2);
    expect(await lookup()).toBe("absent");
    expect(fake.lists.map((l) => Object.keys(l.query))).toEqual([["To", "DateSent>", "PageSize"], ["To", "PageSize"]]);
  });

  it("a message still queued at Twilio (no date_sent, outside DateSent>) is found on the unfiltered page", async () => {
    fake.setQueueMs(60_000);
    fake.enqueue({ kind: "reset" });
    const since = Date.now();
    await attempt();
    expect(await lookup(since)).toEqual({ found: fake.created[0]!.sid });
    expect(fake.lists).toHaveLength(2);
  });

  it("follows next_page_uri: ours on the second page of the day's messages to the number", async () => {
    const since = Date.now();
    fake.enqueue({ kind: "reset" });
    await attempt();
    await sendOthers(PAGE_SIZE + 5); // newer than ours: ours sorts onto page 2
    expect(await lookup(since)).toEqual({ found: fake.created[0]!.sid });
    expect(fake.lists).toHaveLength(2);
    expect(fake.lists[1]!.query).toMatchObject({ To: TO, Page: "1", PageToken: expect.stringMatching(/^PASM/) });
  });

  it(`gives up after ${MAX_PAGES} pages without ours: cannot tell`, async () => {
    await sendOthers(PAGE_SIZE * MAX_PAGES + 1);
    expect(await lookup()).toBe("cannot_tell");
    expect(fake.lists).toHaveLength(MAX_PAGES);
  });

  it("a message created before the earliest attempt (less the skew) is not this send", async () => {
    fake.enqueue({ kind: "reset" });
    await attempt();
    expect(await lookup(Date.now() + CLOCK_SKEW_MS + 60_000)).toBe("absent");
  });

  it("no time left: cannot tell, and no request started", async () => {
    expect(await twilio.lookup!(sms, { since: Date.now(), signal: AbortSignal.timeout(5000), startBy: Date.now() - 1 })).toBe("cannot_tell");
    expect(fake.lists).toEqual([]);
  });

  it("Twilio unreachable: cannot tell (never a throw)", async () => {
    const closed = createTwilioProvider(twilioConfig("http://127.0.0.1:9"), { transport });
    expect(await closed.lookup!(sms, { since: Date.now(), signal: AbortSignal.timeout(5000), startBy: Date.now() + 5000 })).toBe("cannot_tell");
  });
});
