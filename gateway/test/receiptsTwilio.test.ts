// Twilio status callbacks through the receipt route: the official SDK's validator checks signatures made by
// scripts/emulators/signing.ts (written from Twilio's docs, independently), and the Twilio emulator's own
// callbacks after a real SDK send.
import fc from "fast-check";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startFakeTwilio, type FakeTwilio } from "../../scripts/emulators/twilio.ts";
import { twilioSignature } from "../../scripts/emulators/signing.ts";
import { createHttpTransport } from "../src/providers/transport.ts";
import { createTwilioTransport } from "../src/providers/twilio/httpClient.ts";
import { createMessagesApi } from "../src/providers/twilio/sdk.ts";
import {
  DEFAULT_TWILIO_RECEIPT_WINDOW_MS,
  twilioReceiptAvailability,
  twilioStatusCallbackUrl,
} from "../src/receipts/twilio.ts";
import { outcome, startReceiptServer, type ReceiptServer } from "./receipts.support.ts";
import { ACCOUNT_SID, AUTH_TOKEN } from "./support.ts";

const PUBLIC_BASE = "https://sms-gateway-abc123-uc.a.run.app";
const SID = `SM${"c3".repeat(16)}`;
const TO = "+14155552671";
const T0 = Date.parse("2026-03-01T12:00:00Z");

let clock = T0;
let gateway: ReceiptServer;

function form(status: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    AccountSid: ACCOUNT_SID,
    ApiVersion: "2010-04-01",
    From: "+15005550006",
    MessageSid: SID,
    MessageStatus: status,
    SmsSid: SID,
    SmsStatus: status,
    To: TO,
    ...extra,
  };
}

/** POSTs a callback to the local server as Twilio would to `signedUrl` (the public URL it was given). */
function callback(
  params: Record<string, string>,
  options: { sentAt?: number; token?: string; signedUrl?: string; signature?: string | null; body?: string; contentType?: string } = {},
) {
  const callbackUrl = twilioStatusCallbackUrl(PUBLIC_BASE, options.sentAt ?? T0);
  const pathAndQuery = callbackUrl.slice(PUBLIC_BASE.length);
  const signature =
    options.signature === undefined
      ? twilioSignature(options.token ?? AUTH_TOKEN, options.signedUrl ?? callbackUrl, params)
      : options.signature;
  return fetch(`${gateway.url}${pathAndQuery}`, {
    method: "POST",
    headers: {
      "Content-Type": options.contentType ?? "application/x-www-form-urlencoded",
      ...(signature !== null && { "X-Twilio-Signature": signature }),
    },
    body: options.body ?? new URLSearchParams(params).toString(),
  });
}

beforeAll(async () => {
  gateway = await startReceiptServer(() => ({
    publicBaseUrl: PUBLIC_BASE,
    twilio: { authToken: AUTH_TOKEN },
    now: () => clock,
  }));
});
afterAll(() => gateway.close());

describe("Twilio receipts: accepted", () => {
  it("a signed `delivered` callback becomes one sms.receipt line: masked number, country, seconds since the send", async () => {
    clock = T0 + 4_250;
    const before = gateway.lines.length;
    expect(await outcome(await callback(form("delivered")))).toBe("200 received");
    const lines = gateway.lines.slice(before);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      severity: "INFO",
      event: "sms.receipt",
      provider: "twilio",
      providerMessageId: SID,
      status: "delivered",
      deliverySeconds: 4.25,
      country: "US",
      destination: "+1********71",
    });
    expect(lines[0]).not.toHaveProperty("providerErrorCode");
  });

  it("an `undelivered` callback carries Twilio's error code, at WARNING, without delivery seconds", async () => {
    clock = T0 + 60_000;
    const before = gateway.lines.length;
    const params = form("undelivered", { MessageSid: `SM${"d4".repeat(16)}`, ErrorCode: "30003" });
    expect(await outcome(await callback(params))).toBe("200 received");
    const [line] = gateway.lines.slice(before);
    expect(line).toMatchObject({ severity: "WARNING", status: "undelivered", providerErrorCode: "30003" });
    expect(line).not.toHaveProperty("deliverySeconds");
  });

  it("each status of one message is its own receipt", async () => {
    clock = T0 + 1_000;
    const sid = `SM${"e5".repeat(16)}`;
    const statuses = [];
    for (const status of ["queued", "sent", "delivered"]) {
      statuses.push(await outcome(await callback(form(status, { MessageSid: sid }))));
    }
    expect(statuses).toEqual(["200 received", "200 received", "200 received"]);
    expect(gateway.lines.filter((l) => l.providerMessageId === sid).map((l) => l.status)).toEqual(["queued", "sent", "delivered"]);
  });

  it("a status the gateway does not track is acknowledged and not logged", async () => {
    clock = T0 + 1_000;
    const before = gateway.lines.length;
    expect(await outcome(await callback(form("read", { MessageSid: `SM${"f6".repeat(16)}` })))).toBe("200 ignored");
    expect(gateway.lines.length).toBe(before);
  });
});

describe("Twilio receipts: refused, and nothing logged", () => {
  const cases: [string, () => Promise<Response>, string][] = [
    ["unsigned", () => callback(form("delivered", { MessageSid: `SM${"01".repeat(16)}` }), { signature: null }), "401 signature_missing"],
    [
      "signed with another account's token",
      () => callback(form("delivered", { MessageSid: `SM${"02".repeat(16)}` }), { token: "someone-elses-auth-token" }),
      "403 signature_invalid",
    ],
    [
      "a signed body with its status changed",
      () => {
        const signed = form("undelivered", { MessageSid: `SM${"03".repeat(16)}` });
        return callback(signed, { body: new URLSearchParams({ ...signed, MessageStatus: "delivered" }).toString() });
      },
      "403 signature_invalid",
    ],
    [
      "signed for the URL the container sees (http, internal host), not the public one",
      () =>
        callback(form("delivered", { MessageSid: `SM${"04".repeat(16)}` }), {
          signedUrl: twilioStatusCallbackUrl("http://localhost:8080", T0),
        }),
      "403 signature_invalid",
    ],
    [
      "a callback older than the receipt window of its send (no replay after the cache forgets)",
      () => callback(form("delivered", { MessageSid: `SM${"05".repeat(16)}` }), { sentAt: T0 - DEFAULT_TWILIO_RECEIPT_WINDOW_MS - 1 }),
      "403 receipt_expired",
    ],
    [
      "a send stamp from the future",
      () => callback(form("delivered", { MessageSid: `SM${"06".repeat(16)}` }), { sentAt: T0 + 3_600_000 }),
      "403 receipt_expired",
    ],
    ["form fields as JSON", () => callback(form("delivered"), { contentType: "application/json" }), "415 unsupported_media_type"],
    [
      "over 16 KiB",
      () => callback(form("delivered", { Padding: "x".repeat(17 * 1024) })),
      "413 payload_too_large",
    ],
    [
      "signed but without MessageStatus",
      () => {
        const { MessageStatus: _drop, ...params } = form("delivered", { MessageSid: `SM${"07".repeat(16)}` });
        return callback(params);
      },
      "400 invalid_request",
    ],
  ];

  it.each(cases)("%s", async (_label, send, expected) => {
    clock = T0 + 2_000;
    const before = gateway.raw.length;
    expect(await outcome(await send())).toBe(expected);
    expect(gateway.raw.length).toBe(before);
  });

  it("a URL without the gateway's send stamp, even correctly signed, is refused", async () => {
    const url = `${PUBLIC_BASE}/receipts/twilio`;
    const params = form("delivered", { MessageSid: `SM${"08".repeat(16)}` });
    const res = await fetch(`${gateway.url}/receipts/twilio`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": twilioSignature(AUTH_TOKEN, url, params) },
      body: new URLSearchParams(params).toString(),
    });
    expect(await outcome(res)).toBe("400 invalid_request");
  });

  it("a replay of an accepted callback is 409 and logs nothing more", async () => {
    clock = T0 + 3_000;
    const params = form("delivered", { MessageSid: `SM${"09".repeat(16)}` });
    expect(await outcome(await callback(params))).toBe("200 received");
    const after = gateway.raw.length;
    clock = T0 + DEFAULT_TWILIO_RECEIPT_WINDOW_MS - 1; // still inside the window
    expect(await outcome(await callback(params))).toBe("409 receipt_replayed");
    expect(gateway.raw.length).toBe(after);
  });

  it("hostile bodies and signatures are always a 4xx, never logged", async () => {
    clock = T0 + 5_000;
    const before = gateway.raw.length;
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 300 }), fc.option(fc.string({ maxLength: 40 })), async (body, signature) => {
        const res = await callback({}, { body, signature: signature ?? null });
        expect(res.status).toBeGreaterThanOrEqual(400);
        expect(res.status).toBeLessThan(500);
        await res.body?.cancel();
      }),
      { numRuns: 60 },
    );
    expect(gateway.raw.length).toBe(before);
  });
});

describe("never logged", () => {
  it("no auth token and no full number in any receipt line", () => {
    expect(gateway.raw).not.toContain(AUTH_TOKEN);
    expect(gateway.raw).not.toContain(TO);
    expect(gateway.raw).not.toContain("4155552671");
  });
});

describe("twilioReceiptAvailability (the startup log's answer)", () => {
  it.each([
    [{ kind: "authToken" as const }, PUBLIC_BASE, { enabled: true }],
    [{ kind: "apiKey" as const }, PUBLIC_BASE, { enabled: false, reason: expect.stringMatching(/API key/) }],
    [{ kind: "authToken" as const }, undefined, { enabled: false, reason: expect.stringMatching(/public base URL/) }],
  ])("%o with base %s", (auth, base, expected) => {
    expect(twilioReceiptAvailability(auth, base)).toEqual(expected);
  });
});

describe("end to end: a real SDK send with StatusCallback, the emulator's signed callbacks", () => {
  let fake: FakeTwilio;
  let liveGateway: ReceiptServer;
  const transport = createHttpTransport({ maxSockets: 2 });

  beforeAll(async () => {
    fake = await startFakeTwilio();
    // The emulator calls the URL it was given; here that is the loopback server itself (no proxy in between).
    liveGateway = await startReceiptServer((url) => ({ publicBaseUrl: url, twilio: { authToken: AUTH_TOKEN } }));
  });
  afterEach(() => fake.reset());
  afterAll(async () => {
    transport.close();
    await Promise.all([fake.close(), liveGateway.close()]);
  });

  async function sendWithCallback(): Promise<string> {
    const sdkTransport = createTwilioTransport(transport, fake.url);
    const message = await createMessagesApi(ACCOUNT_SID, AUTH_TOKEN, {
      accountSid: ACCOUNT_SID,
      httpClient: sdkTransport.bind({ signal: new AbortController().signal, startBy: Date.now() + 10_000 }),
      autoRetry: false,
    }).create({
      to: TO,
      from: "+15005550006",
      body: "Your code is 735105",
      statusCallback: twilioStatusCallbackUrl(liveGateway.url, Date.now()),
      validityPeriod: 600,
    });
    return String(message.sid);
  }

  it("sent, then delivered: both verified by the SDK's validator and logged, the text nowhere", async () => {
    const sid = await sendWithCallback();
    await fake.callbacksSettled();
    expect(fake.received[0]).toMatchObject({ statusCallback: expect.stringContaining("/receipts/twilio?sent="), validityPeriod: "600" });
    expect(fake.callbacks.map((c) => [c.status, c.answeredWith])).toEqual([
      ["sent", 200],
      ["delivered", 200],
    ]);
    const receipts = liveGateway.lines.filter((l) => l.providerMessageId === sid);
    expect(receipts.map((l) => l.status)).toEqual(["sent", "delivered"]);
    expect(typeof receipts[1]!.deliverySeconds).toBe("number");
    expect(liveGateway.raw).not.toContain("735105");
  });

  it("a failed delivery arrives with its error code", async () => {
    fake.receiptOutcome({ status: "failed", errorCode: 30008 });
    const sid = await sendWithCallback();
    await fake.callbacksSettled();
    const final = liveGateway.lines.find((l) => l.providerMessageId === sid && l.status === "failed");
    expect(final).toMatchObject({ providerErrorCode: "30008", severity: "WARNING" });
  });

  it("without StatusCallback the emulator sends no callback (its behaviour before receipts)", async () => {
    const res = await fetch(`${fake.url}/2010-04-01/Accounts/${ACCOUNT_SID}/Messages.json`, {
      method: "POST",
      headers: {
        Authorization: `Basic ${Buffer.from(`${ACCOUNT_SID}:${AUTH_TOKEN}`).toString("base64")}`,
        "Content-Type": "application/x-www-form-urlencoded",
      },
      body: new URLSearchParams({ To: TO, From: "+15005550006", Body: "Your code is 111111" }).toString(),
    });
    expect(res.status).toBe(201);
    await fake.callbacksSettled();
    expect(fake.callbacks).toEqual([]);
  });
});
