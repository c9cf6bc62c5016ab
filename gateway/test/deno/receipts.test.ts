/**
 * Deno smoke suite for delivery receipts: the receipt routes on Deno's node:http and node:crypto (Ed25519 for
 * Telnyx, the Twilio SDK's HMAC validator), minimal cases only — the full matrix runs on Node under vitest
 * (gateway/test/receiptsTwilio.test.ts, receiptsTelnyx.test.ts).
 */
import { generateTelnyxSigningKey, telnyxSignatureHeaders, twilioSignature } from "../../../scripts/emulators/signing.ts";
import { startFakeTwilio } from "../../../scripts/emulators/twilio.ts";
import { twilioStatusCallbackUrl } from "../../src/receipts/twilio.ts";
import { outcome, startReceiptServer } from "../receipts.support.ts";

const AUTH_TOKEN = "deno-receipts-auth-token";
const ACCOUNT_SID = `AC${"0123456789abcdef".repeat(2)}`;
const PUBLIC_BASE = "https://sms-gateway.example";

function assertEquals<T>(actual: T, expected: T, what: string): void {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) {
    throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  }
}

Deno.test("Telnyx receipts under Deno: Ed25519 verified by node:crypto; bad, stale and replayed refused", async () => {
  const key = generateTelnyxSigningKey();
  let clock = Date.parse("2026-03-01T12:00:00Z");
  const gateway = await startReceiptServer(() => ({ telnyx: { publicKey: key.publicKeyBase64 }, now: () => clock }));
  try {
    const body = JSON.stringify({
      data: {
        event_type: "message.finalized",
        id: "deno-event-1",
        payload: {
          id: "msg-1",
          direction: "outbound",
          to: [{ phone_number: "+14155552671", status: "delivered" }],
          text: "Your code is 246810",
          received_at: "2026-03-01T11:59:58.000Z",
          completed_at: "2026-03-01T12:00:00.500Z",
        },
      },
      meta: { attempt: 1 },
    });
    const send = (headers: Record<string, string>, payload = body) =>
      fetch(`${gateway.url}/receipts/telnyx`, { method: "POST", headers: { "Content-Type": "application/json", ...headers }, body: payload })
        .then(outcome);
    const signed = telnyxSignatureHeaders(key, body, clock / 1000);

    assertEquals(await send({}), "401 signature_missing", "unsigned");
    assertEquals(await send(telnyxSignatureHeaders(generateTelnyxSigningKey(), body, clock / 1000)), "403 signature_invalid", "other key");
    assertEquals(await send(signed, body.replace("delivered", "sending_failed")), "403 signature_invalid", "tampered");
    assertEquals(await send(telnyxSignatureHeaders(key, body, clock / 1000 - 301)), "403 receipt_expired", "stale");
    assertEquals(await send(signed), "200 received", "valid");
    assertEquals(await send(signed), "409 receipt_replayed", "replayed");
    clock += 301_000;
    assertEquals(await send(signed), "403 receipt_expired", "replayed after the window");

    const receipts = gateway.lines.filter((l) => l.event === "sms.receipt");
    assertEquals(
      receipts.map((l) => [l.provider, l.status, l.deliverySeconds, l.country, l.destination]),
      [["telnyx", "delivered", 2.5, "US", "+1********71"]],
      "one receipt line",
    );
    assertEquals(gateway.raw.includes("246810"), false, "text logged");
  } finally {
    await gateway.close();
  }
});

Deno.test("Twilio receipts under Deno: the SDK validator accepts the emulator's signature and refuses others", async () => {
  const gateway = await startReceiptServer((url) => ({ publicBaseUrl: url, twilio: { authToken: AUTH_TOKEN } }));
  const fake = await startFakeTwilio();
  try {
    // The emulator's own signed callbacks after a send that carries StatusCallback.
    const res = await fetch(`${fake.url}/2010-04-01/Accounts/${ACCOUNT_SID}/Messages.json`, {
      method: "POST",
      headers: {
        Authorization: `Basic ${btoa(`${ACCOUNT_SID}:${AUTH_TOKEN}`)}`,
        "Content-Type": "application/x-www-form-urlencoded",
      },
      body: new URLSearchParams({
        To: "+14155552671",
        From: "+15005550006",
        Body: "Your code is 135790",
        StatusCallback: twilioStatusCallbackUrl(gateway.url, Date.now()),
      }).toString(),
    });
    assertEquals(res.status, 201, "send");
    await res.body?.cancel();
    await fake.callbacksSettled();
    assertEquals(fake.callbacks.map((c) => [c.status, c.answeredWith]), [["sent", 200], ["delivered", 200]], "callbacks");
    assertEquals(
      gateway.lines.filter((l) => l.event === "sms.receipt").map((l) => l.status),
      ["sent", "delivered"],
      "receipt lines",
    );

    // Signed for the public URL with the wrong token, and unsigned.
    const params = { MessageSid: `SM${"ab".repeat(16)}`, MessageStatus: "delivered", To: "+14155552671" };
    const callbackUrl = twilioStatusCallbackUrl(gateway.url, Date.now());
    const post = (signature: string | undefined) =>
      fetch(callbackUrl, {
        method: "POST",
        headers: {
          "Content-Type": "application/x-www-form-urlencoded",
          ...(signature !== undefined && { "X-Twilio-Signature": signature }),
        },
        body: new URLSearchParams(params).toString(),
      }).then(outcome);
    assertEquals(await post(twilioSignature("not-the-token", callbackUrl, params)), "403 signature_invalid", "wrong token");
    assertEquals(await post(twilioSignature(AUTH_TOKEN, twilioStatusCallbackUrl(PUBLIC_BASE, Date.now()), params)), "403 signature_invalid", "other URL");
    assertEquals(await post(undefined), "401 signature_missing", "unsigned");
    assertEquals(await post(twilioSignature(AUTH_TOKEN, callbackUrl, params)), "200 received", "valid");
    assertEquals(await post(twilioSignature(AUTH_TOKEN, callbackUrl, params)), "409 receipt_replayed", "replayed");
  } finally {
    await fake.close();
    await gateway.close();
  }
});
