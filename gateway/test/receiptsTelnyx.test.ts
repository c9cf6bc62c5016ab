// Telnyx webhooks through the receipt route, signed with a generated Ed25519 key by scripts/emulators/signing.ts.
import fc from "fast-check";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { generateTelnyxSigningKey, telnyxSignatureHeaders } from "../../scripts/emulators/signing.ts";
import { startFakeTelnyx, type FakeTelnyx } from "../../scripts/emulators/telnyx.ts";
import { parseTelnyxPublicKey, telnyxPublicKeyProblem } from "../src/receipts/telnyx.ts";
import { outcome, startReceiptServer, type ReceiptServer } from "./receipts.support.ts";

const KEY = generateTelnyxSigningKey();
const OTHER_KEY = generateTelnyxSigningKey();
const T0 = Date.parse("2026-03-01T12:00:00Z");
const TEXT = "Your Acme code is 604219";
let clock = T0;
let gateway: ReceiptServer;
let eventCounter = 0;

function finalized(status: string, overrides: { payload?: Record<string, unknown>; eventType?: string; id?: string; attempt?: number } = {}) {
  const id = overrides.id ?? `0f8fad5b-d9cb-469f-a165-70867728${String(++eventCounter).padStart(4, "0")}`;
  return JSON.stringify({
    data: {
      event_type: overrides.eventType ?? "message.finalized",
      id,
      occurred_at: "2026-03-01T12:00:03.100+00:00",
      payload: {
        id: "40385f64-5717-4562-b3fc-2c963f66afa6",
        direction: "outbound",
        type: "SMS",
        from: { phone_number: "+18445550001", carrier: "TELNYX LLC", line_type: "VoIP" },
        to: [{ phone_number: "+447400123456", status, carrier: "EE", line_type: "Wireless" }],
        text: TEXT,
        errors: [],
        received_at: "2026-03-01T12:00:00.250+00:00",
        sent_at: "2026-03-01T12:00:00.900+00:00",
        completed_at: "2026-03-01T12:00:03.100+00:00",
        ...overrides.payload,
      },
      record_type: "event",
    },
    meta: { attempt: overrides.attempt ?? 1, delivered_to: "https://sms-gateway.example/receipts/telnyx" },
  });
}

function webhook(body: string | Buffer, headers: Record<string, string> | null = telnyxSignatureHeaders(KEY, body, clock / 1000)) {
  return fetch(`${gateway.url}/receipts/telnyx`, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...headers },
    body,
  });
}

beforeAll(async () => {
  gateway = await startReceiptServer(() => ({ telnyx: { publicKey: KEY.publicKeyBase64 }, now: () => clock }));
});
afterAll(() => gateway.close());

describe("Telnyx receipts: accepted", () => {
  it("a signed message.finalized `delivered` becomes one sms.receipt line, seconds from Telnyx's received_at to completed_at", async () => {
    const before = gateway.lines.length;
    expect(await outcome(await webhook(finalized("delivered")))).toBe("200 received");
    const lines = gateway.lines.slice(before);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      severity: "INFO",
      event: "sms.receipt",
      provider: "telnyx",
      providerMessageId: "40385f64-5717-4562-b3fc-2c963f66afa6",
      status: "delivered",
      deliverySeconds: 2.85,
      country: "GB",
      destination: "+44********56",
    });
  });

  it.each([
    ["sending_failed", "failed", "40008"],
    ["delivery_failed", "undelivered", "30003"],
    ["delivery_unconfirmed", "unconfirmed", undefined],
    ["sent", "sent", undefined],
  ])("to[].status %s → %s", async (telnyxStatus, status, code) => {
    const before = gateway.lines.length;
    const errors = code ? [{ code, title: "Delivery failed" }] : [];
    expect(await outcome(await webhook(finalized(telnyxStatus, { payload: { errors } })))).toBe("200 received");
    const [line] = gateway.lines.slice(before);
    expect(line).toMatchObject({ status });
    expect(line!.providerErrorCode).toBe(code);
    expect(line).not.toHaveProperty("deliverySeconds");
  });

  it("a timestamp 299 s off either way is inside the window", async () => {
    for (const offset of [-299, 299]) {
      const body = finalized("delivered");
      expect(await outcome(await webhook(body, telnyxSignatureHeaders(KEY, body, clock / 1000 + offset)))).toBe("200 received");
    }
  });

  it("an inbound message (a user's text) is acknowledged and never logged", async () => {
    const before = gateway.raw.length;
    const body = finalized("webhook_delivered", { eventType: "message.received", payload: { direction: "inbound", text: "STOP 555" } });
    expect(await outcome(await webhook(body))).toBe("200 ignored");
    expect(gateway.raw.length).toBe(before);
  });
});

describe("Telnyx receipts: refused, and nothing logged", () => {
  const now = () => clock / 1000;
  const cases: [string, () => Promise<Response>, string][] = [
    ["unsigned", () => webhook(finalized("delivered"), null), "401 signature_missing"],
    [
      "a signature without its timestamp",
      () => {
        const body = finalized("delivered");
        return webhook(body, { "telnyx-signature-ed25519": telnyxSignatureHeaders(KEY, body, now())["telnyx-signature-ed25519"] });
      },
      "401 signature_missing",
    ],
    ["signed by another key", () => { const b = finalized("delivered"); return webhook(b, telnyxSignatureHeaders(OTHER_KEY, b, now())); }, "403 signature_invalid"],
    [
      "a signed body with its status changed",
      () => {
        const signed = finalized("delivery_failed");
        return webhook(signed.replace("delivery_failed", "delivered"), telnyxSignatureHeaders(KEY, signed, now()));
      },
      "403 signature_invalid",
    ],
    [
      "the signature of one timestamp sent with another",
      () => {
        const body = finalized("delivered");
        return webhook(body, { ...telnyxSignatureHeaders(KEY, body, now()), "telnyx-timestamp": String(Math.floor(now()) - 1) });
      },
      "403 signature_invalid",
    ],
    [
      "a signature that is not 64 bytes of base64",
      () => webhook(finalized("delivered"), { "telnyx-timestamp": String(Math.floor(now())), "telnyx-signature-ed25519": "c2hvcnQ=" }),
      "403 signature_invalid",
    ],
    [
      "a timestamp that is not a number",
      () => {
        const body = finalized("delivered");
        return webhook(body, { ...telnyxSignatureHeaders(KEY, body, now()), "telnyx-timestamp": "soon" });
      },
      "403 signature_invalid",
    ],
    ["stale: signed 301 s ago", () => { const b = finalized("delivered"); return webhook(b, telnyxSignatureHeaders(KEY, b, now() - 301)); }, "403 receipt_expired"],
    ["from the future: 301 s ahead", () => { const b = finalized("delivered"); return webhook(b, telnyxSignatureHeaders(KEY, b, now() + 301)); }, "403 receipt_expired"],
    [
      "over 16 KiB",
      () => webhook(finalized("delivered", { payload: { padding: "x".repeat(17 * 1024) } })),
      "413 payload_too_large",
    ],
    [
      "JSON sent as text/plain",
      () =>
        fetch(`${gateway.url}/receipts/telnyx`, {
          method: "POST",
          headers: { "Content-Type": "text/plain", ...telnyxSignatureHeaders(KEY, "{}", now()) },
          body: "{}",
        }),
      "415 unsupported_media_type",
    ],
    ["signed, but not JSON", () => webhook("data=1"), "400 invalid_request"],
    ["signed JSON without data.id", () => webhook(JSON.stringify({ data: { event_type: "message.finalized", payload: {} } })), "400 invalid_request"],
    ["signed receipt without a recipient status", () => webhook(finalized("delivered", { payload: { to: [] } })), "400 invalid_request"],
  ];

  it.each(cases)("%s", async (_label, send, expected) => {
    const before = gateway.raw.length;
    expect(await outcome(await send())).toBe(expected);
    expect(gateway.raw.length).toBe(before);
  });

  it("a replay inside the window is 409, Telnyx's own retry of the event (a new attempt number) too", async () => {
    const body = finalized("delivered", { id: "replayed-event-1" });
    const headers = telnyxSignatureHeaders(KEY, body, clock / 1000);
    expect(await outcome(await webhook(body, headers))).toBe("200 received");
    const after = gateway.raw.length;
    clock += 200_000;
    expect(await outcome(await webhook(body, headers))).toBe("409 receipt_replayed");
    expect(await outcome(await webhook(finalized("delivered", { id: "replayed-event-1", attempt: 2 })))).toBe("409 receipt_replayed");
    // Past the window the same signed request is stale, whatever the cache remembers.
    clock += 200_000;
    expect(await outcome(await webhook(body, headers))).toBe("403 receipt_expired");
    expect(gateway.raw.length).toBe(after);
  });

  it("hostile bodies and headers are always a 4xx, never logged", async () => {
    const before = gateway.raw.length;
    await fc.assert(
      fc.asyncProperty(
        fc.string({ maxLength: 300 }),
        fc.option(fc.string({ minLength: 1, maxLength: 100 })),
        fc.option(fc.oneof(fc.integer({ min: 0, max: 2e9 }).map(String), fc.string({ minLength: 1, maxLength: 20 }))),
        async (body, signature, timestamp) => {
          const headers: Record<string, string> = {};
          if (signature !== null) headers["telnyx-signature-ed25519"] = signature;
          if (timestamp !== null) headers["telnyx-timestamp"] = timestamp;
          let res: Response;
          try {
            res = await webhook(body, headers);
          } catch {
            return; // a header value fetch itself refuses to send (control characters): nothing reached the gateway
          }
          expect(res.status).toBeGreaterThanOrEqual(400);
          expect(res.status).toBeLessThan(500);
          await res.body?.cancel();
        },
      ),
      { numRuns: 60 },
    );
    expect(gateway.raw.length).toBe(before);
  });
});

describe("never logged", () => {
  it("no message text and no full number in any line", () => {
    expect(gateway.raw).not.toContain(TEXT);
    expect(gateway.raw).not.toContain("604219");
    expect(gateway.raw).not.toContain("7400123456");
  });
});

describe("TELNYX_PUBLIC_KEY", () => {
  it.each([
    ["the key from Telnyx", KEY.publicKeyBase64, undefined],
    ["hex instead of base64", Buffer.from(KEY.publicKeyBase64, "base64").toString("hex"), expect.stringMatching(/base64/)],
    ["a 16-byte value", Buffer.alloc(16, 7).toString("base64"), expect.stringMatching(/32 bytes/)],
    ["empty", "", expect.stringMatching(/TELNYX_PUBLIC_KEY/)],
  ])("%s", (_label, value, problem) => {
    expect(telnyxPublicKeyProblem(value)).toEqual(problem);
  });

  it("a bad key fails at startup with a message that does not echo it", () => {
    const bad = "not-a-key-but-maybe-a-secret";
    expect(() => parseTelnyxPublicKey(bad)).toThrow(/TELNYX_PUBLIC_KEY/);
    expect(() => parseTelnyxPublicKey(bad)).not.toThrow(new RegExp(bad));
  });
});

describe("end to end: a message with webhook_url, the Telnyx emulator's signed webhooks", () => {
  let fake: FakeTelnyx;
  let live: ReceiptServer;
  const API_KEY = "KEYreceipts-emulator-test";

  beforeAll(async () => {
    fake = await startFakeTelnyx({ apiKey: API_KEY });
    // The emulator calls the URL it was given; here the loopback receipt server itself, on the real clock.
    live = await startReceiptServer(() => ({ telnyx: { publicKey: fake.publicKey } }));
  });
  afterEach(() => fake.reset());
  afterAll(() => Promise.all([fake.close(), live.close()]));

  function send(body: Record<string, unknown>) {
    return fetch(`${fake.url}/v2/messages`, {
      method: "POST",
      headers: { Authorization: `Bearer ${API_KEY}`, "Content-Type": "application/json" },
      body: JSON.stringify({ from: "+18445550001", to: "+447400123456", text: "Your code is 918273", ...body }),
    });
  }

  it("message.sent, then message.finalized: both verified with the emulator's public key and logged, the text nowhere", async () => {
    const res = await send({ webhook_url: `${live.url}/receipts/telnyx` });
    const id = ((await res.json()) as { data: { id: string } }).data.id;
    await fake.webhooksSettled();
    expect(fake.webhooks.map((w) => [w.eventType, w.status, w.answeredWith])).toEqual([
      ["message.sent", "sent", 200],
      ["message.finalized", "delivered", 200],
    ]);
    const receipts = live.lines.filter((l) => l.providerMessageId === id);
    expect(receipts.map((l) => l.status)).toEqual(["sent", "delivered"]);
    expect(receipts[1]).toMatchObject({ country: "GB", destination: "+44********56", deliverySeconds: expect.any(Number) });
    expect(live.raw).not.toContain("918273");
  });

  it("a failed delivery arrives with its error code", async () => {
    fake.receiptOutcome({ status: "delivery_failed", errorCode: "40008" });
    const res = await send({ webhook_url: `${live.url}/receipts/telnyx` });
    const id = ((await res.json()) as { data: { id: string } }).data.id;
    await fake.webhooksSettled();
    expect(live.lines.find((l) => l.providerMessageId === id && l.status === "undelivered")).toMatchObject({
      providerErrorCode: "40008",
      severity: "WARNING",
    });
  });

  it("webhooks signed by another key are refused (the emulator signs with its own)", async () => {
    const other = await startFakeTelnyx({ apiKey: API_KEY });
    try {
      const res = await fetch(`${other.url}/v2/messages`, {
        method: "POST",
        headers: { Authorization: `Bearer ${API_KEY}`, "Content-Type": "application/json" },
        body: JSON.stringify({ from: "+18445550001", to: "+447400123456", text: "x", webhook_url: `${live.url}/receipts/telnyx` }),
      });
      await res.body?.cancel();
      await other.webhooksSettled();
      expect(other.webhooks.map((w) => w.answeredWith)).toEqual([403, 403]);
    } finally {
      await other.close();
    }
  });

  it("without webhook_url the emulator sends no webhook (its behaviour before receipts)", async () => {
    const res = await send({});
    expect(res.status).toBe(200);
    await res.body?.cancel();
    await fake.webhooksSettled();
    expect(fake.webhooks).toEqual([]);
  });
});
