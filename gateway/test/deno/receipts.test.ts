/**
 * Deno smoke suite for delivery receipts: the receipt routes on Deno's node:http and node:crypto (Ed25519 for
 * Telnyx, the Twilio SDK's HMAC validator), then a Twilio and a Telnyx receipt through the whole gateway process
 * (sources and bundle) — minimal cases only; the full matrix runs on Node under vitest
 * (gateway/test/receiptsTwilio.test.ts, receiptsTelnyx.test.ts, receiptsGateway.test.ts).
 */
import { generateTelnyxSigningKey, telnyxSignatureHeaders, twilioSignature } from "../../../scripts/emulators/signing.ts";
import { startPublicFront } from "../../../scripts/emulators/publicFront.ts";
import { startFakeTelnyx } from "../../../scripts/emulators/telnyx.ts";
import { startFakeTwilio } from "../../../scripts/emulators/twilio.ts";
import { twilioStatusCallbackUrl } from "../../src/receipts/twilio.ts";
import { outcome, startReceiptServer } from "../receipts.support.ts";
import { assertEquals, until } from "./helpers.ts";
import { ENTRIES, startGateway, type Entry } from "./startGateway.ts";

const AUTH_TOKEN = "deno-receipts-auth-token";
const ACCOUNT_SID = `AC${"0123456789abcdef".repeat(2)}`;
const PUBLIC_BASE = "https://sms-gateway.example";


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

const GATEWAY_KEY = "deno-receipts-gateway-key-01";

for (const entry of Object.keys(ENTRIES) as Entry[]) {
  Deno.test(`receipts through the gateway under Deno (${entry}): a Twilio and a Telnyx receipt, verified and logged`, async () => {
    const [twilio, telnyx, front] = await Promise.all([startFakeTwilio(), startFakeTelnyx({ apiKey: "KEYdeno-receipts" }), startPublicFront()]);
    const gateway = await startGateway(
      {
        GATEWAY_API_KEY: GATEWAY_KEY,
        SMS_ROUTES: JSON.stringify({ GB: [{ provider: "telnyx" }], "*": [{ provider: "twilio" }] }),
        TWILIO_ACCOUNT_SID: ACCOUNT_SID,
        TWILIO_AUTH_TOKEN: AUTH_TOKEN,
        TWILIO_FROM_NUMBER: "+15005550006",
        TWILIO_API_BASE_URL: twilio.url,
        TELNYX_API_KEY: "KEYdeno-receipts",
        TELNYX_FROM_NUMBER: "+14155550111",
        TELNYX_API_BASE_URL: telnyx.url,
        PUBLIC_BASE_URL: front.url,
        TELNYX_PUBLIC_KEY: telnyx.publicKey,
      },
      entry,
    ).catch(async (error) => {
      await Promise.all([twilio.close(), telnyx.close(), front.close()]);
      throw error;
    });
    front.forwardTo(gateway.url);
    try {
      const startup = gateway.logs.find((l) => l.message === "delivery receipts");
      const status = startup?.receipts as Record<string, string> | undefined;
      assertEquals([startup?.severity, status?.twilio?.slice(0, 3), status?.telnyx?.slice(0, 3)], ["INFO", "on:", "on:"], "startup line");

      const ids: string[] = [];
      for (const phone of ["+14155552671", "+447400123456"]) {
        const res = await fetch(`${gateway.url}/send-sms`, {
          method: "POST",
          headers: { "Content-Type": "application/json", "X-API-Key": GATEWAY_KEY },
          body: JSON.stringify({ phone_number: phone, sender_id: "", message: "Your code is 864209" }),
        });
        assertEquals(res.status, 200, `send to ${phone}`);
        ids.push(((await res.json()) as { id: string }).id);
      }
      await Promise.all([twilio.callbacksSettled(), telnyx.webhooksSettled()]);
      assertEquals(twilio.received[0]?.validityPeriod, "600", "ValidityPeriod");
      assertEquals(twilio.received[0]?.statusCallback?.startsWith(`${front.url}/receipts/twilio?sent=`), true, "StatusCallback");
      assertEquals(telnyx.received[0]?.webhookUrl, `${front.url}/receipts/telnyx`, "webhook_url");
      assertEquals(
        [...twilio.callbacks.map((c) => c.answeredWith), ...telnyx.webhooks.map((w) => w.answeredWith)],
        [200, 200, 200, 200],
        "the gateway's answers to the callbacks",
      );

      const delivered = () => gateway.logs.filter((l) => l.event === "sms.receipt" && l.status === "delivered");
      await until(() => delivered().length === 2, 5000, "two delivered receipt lines");
      assertEquals(
        delivered().map((l) => [l.provider, l.providerMessageId, typeof l.deliverySeconds, l.country, l.destination]),
        [
          ["twilio", ids[0], "number", "US", "+1********71"],
          ["telnyx", ids[1], "number", "GB", "+44********56"],
        ],
        "delivered receipt lines",
      );
      const raw = JSON.stringify(gateway.logs);
      for (const secret of ["864209", "4155552671", "7400123456", AUTH_TOKEN, GATEWAY_KEY]) {
        assertEquals(raw.includes(secret), false, `${secret} in a log line`);
      }
    } finally {
      await gateway.stop();
      await Promise.all([twilio.close(), telnyx.close(), front.close()]);
    }
  });
}
