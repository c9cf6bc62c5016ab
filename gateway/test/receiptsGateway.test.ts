// Delivery receipts through the whole gateway, wired as main.ts wires it (config → providers → app): a send
// through the real Twilio SDK or the Telnyx provider names the receipt endpoint, the emulators call it back
// through a stand-in for Cloud Run's front end (another host than the gateway sees), the mounted routes verify
// and log each receipt. Forged, stale, replayed and oversized callbacks are refused and change nothing.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { generateTelnyxSigningKey, telnyxSignatureHeaders, twilioSignature } from "../../scripts/emulators/signing.ts";
import { startPublicFront, type PublicFront } from "../../scripts/emulators/publicFront.ts";
import { startFakeTelnyx, type FakeTelnyx } from "../../scripts/emulators/telnyx.ts";
import { startFakeTwilio, type FakeTwilio } from "../../scripts/emulators/twilio.ts";
import { twilioStatusCallbackUrl } from "../src/receipts/twilio.ts";
import { ACCOUNT_SID, API_KEY, AUTH_TOKEN, OTP_BODY, post, startGatewayFromEnv, type TestGateway } from "./support.ts";

const TELNYX_KEY = "KEYreceipts-gateway-test-0001";
const US = "+14155552671";
const GB = "+447400123456";
const OTP_DIGITS = "493817"; // in OTP_BODY.message
const ROUTES = JSON.stringify({ GB: [{ provider: "telnyx" }], "*": [{ provider: "twilio" }] });
/** The Telnyx emulator's signing key, known here so that tests can sign webhooks as Telnyx does. */
const TELNYX_SIGNER = generateTelnyxSigningKey();

let twilio: FakeTwilio;
let telnyx: FakeTelnyx;
let front: PublicFront;

function env(fakes: { twilio: FakeTwilio; telnyx: FakeTelnyx }, overrides: Record<string, string | undefined> = {}) {
  const all: Record<string, string | undefined> = {
    SMS_ROUTES: ROUTES,
    TWILIO_ACCOUNT_SID: ACCOUNT_SID,
    TWILIO_AUTH_TOKEN: AUTH_TOKEN,
    TWILIO_FROM_NUMBER: "+15005550006",
    TWILIO_API_BASE_URL: fakes.twilio.url,
    TELNYX_API_KEY: TELNYX_KEY,
    TELNYX_FROM_NUMBER: "+14155550111",
    TELNYX_API_BASE_URL: fakes.telnyx.url,
    PUBLIC_BASE_URL: front.url,
    TELNYX_PUBLIC_KEY: fakes.telnyx.publicKey,
    ...overrides,
  };
  return Object.fromEntries(Object.entries(all).filter(([, v]) => v !== undefined)) as Record<string, string>;
}

const lines = (gateway: TestGateway) => gateway.logs.map((l) => JSON.parse(l) as Record<string, unknown>);

async function sendOtp(gateway: TestGateway, phone: string): Promise<string> {
  const res = await post(`${gateway.url}/send-sms`, { ...OTP_BODY, phone_number: phone });
  expect(res.status).toBe(200);
  return ((await res.json()) as { id: string }).id;
}

beforeAll(async () => {
  [twilio, telnyx, front] = await Promise.all([startFakeTwilio(), startFakeTelnyx({ apiKey: TELNYX_KEY, signingKey: TELNYX_SIGNER }), startPublicFront()]);
});
afterAll(() => Promise.all([twilio.close(), telnyx.close(), front.close()]));

describe("receipts on: PUBLIC_BASE_URL, the Twilio auth token and TELNYX_PUBLIC_KEY", () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startGatewayFromEnv(env({ twilio, telnyx }));
    front.forwardTo(gateway.url);
  });
  afterAll(() => gateway.close());
  beforeEach(() => {
    twilio.reset();
    telnyx.reset();
  });

  it("a Twilio send carries StatusCallback and ValidityPeriod; its receipts arrive verified, with seconds to delivery", async () => {
    const id = await sendOtp(gateway, US);
    await twilio.callbacksSettled();
    expect(twilio.received).toEqual([
      expect.objectContaining({
        to: US,
        statusCallback: expect.stringMatching(new RegExp(`^${front.url.replaceAll(".", "\\.")}/receipts/twilio\\?sent=\\d{13}$`)),
        validityPeriod: "600",
      }),
    ]);
    expect(twilio.callbacks.map((c) => [c.messageSid, c.status, c.answeredWith])).toEqual([
      [id, "sent", 200],
      [id, "delivered", 200],
    ]);
    const receipts = lines(gateway).filter((l) => l.event === "sms.receipt");
    expect(receipts).toEqual([
      expect.objectContaining({ severity: "INFO", provider: "twilio", providerMessageId: id, status: "sent", country: "US", destination: "+1********71" }),
      expect.objectContaining({
        severity: "INFO",
        message: "receipt twilio delivered",
        provider: "twilio",
        providerMessageId: id,
        status: "delivered",
        deliverySeconds: expect.any(Number),
        country: "US",
        destination: "+1********71",
      }),
    ]);
    expect(receipts[0]).not.toHaveProperty("deliverySeconds");
    // From the send's own stamp to the callback: this run's few milliseconds, not an absurd figure.
    expect(receipts[1]!.deliverySeconds).toBeGreaterThanOrEqual(0);
    expect(receipts[1]!.deliverySeconds).toBeLessThan(30);
  });

  it("a Telnyx send names the receipt endpoint as webhook_url; its signed webhooks arrive verified, with seconds to delivery", async () => {
    const id = await sendOtp(gateway, GB);
    await telnyx.webhooksSettled();
    expect(telnyx.received).toEqual([expect.objectContaining({ to: GB, webhookUrl: `${front.url}/receipts/telnyx` })]);
    expect(telnyx.webhooks.map((w) => [w.messageId, w.eventType, w.answeredWith])).toEqual([
      [id, "message.sent", 200],
      [id, "message.finalized", 200],
    ]);
    const receipts = lines(gateway).filter((l) => l.event === "sms.receipt" && l.provider === "telnyx");
    expect(receipts).toEqual([
      expect.objectContaining({ providerMessageId: id, status: "sent", country: "GB", destination: "+44********56" }),
      expect.objectContaining({
        severity: "INFO",
        providerMessageId: id,
        status: "delivered",
        deliverySeconds: expect.any(Number),
        country: "GB",
        destination: "+44********56",
      }),
    ]);
    expect(receipts[1]!.deliverySeconds).toBeGreaterThan(0);
    expect(receipts[1]!.deliverySeconds).toBeLessThan(30);
  });

  it("failed deliveries arrive with the provider's error code, at WARNING, without delivery seconds", async () => {
    twilio.receiptOutcome({ status: "undelivered", errorCode: 30003 });
    telnyx.receiptOutcome({ status: "delivery_failed", errorCode: "40008" });
    const [twilioId, telnyxId] = [await sendOtp(gateway, US), await sendOtp(gateway, GB)];
    await Promise.all([twilio.callbacksSettled(), telnyx.webhooksSettled()]);
    const finals = lines(gateway).filter((l) => l.event === "sms.receipt" && l.status !== "sent");
    expect(finals).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ severity: "WARNING", providerMessageId: twilioId, status: "undelivered", providerErrorCode: "30003" }),
        expect.objectContaining({ severity: "WARNING", providerMessageId: telnyxId, status: "undelivered", providerErrorCode: "40008" }),
      ]),
    );
    for (const line of finals.filter((l) => l.providerMessageId === twilioId || l.providerMessageId === telnyxId)) {
      expect(line).not.toHaveProperty("deliverySeconds");
    }
  });

  it("never logs the text, a full number or a secret", () => {
    const raw = gateway.logs.join("");
    expect(raw).toContain("sms.receipt");
    for (const secret of [OTP_DIGITS, US, "4155552671", GB, "7400123456", AUTH_TOKEN, TELNYX_KEY, API_KEY]) {
      expect(raw).not.toContain(secret);
    }
  });
});

describe("refused callbacks reach the mounted routes and change nothing", () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startGatewayFromEnv(env({ twilio, telnyx }));
    front.forwardTo(gateway.url);
  });
  afterAll(() => gateway.close());

  let sid = 0;
  const nextSid = () => `SM${String(++sid).padStart(32, "0")}`;
  const twilioForm = (messageSid: string, status = "delivered") => ({
    AccountSid: ACCOUNT_SID,
    MessageSid: messageSid,
    MessageStatus: status,
    To: US,
    From: "+15005550006",
  });

  /** A Twilio callback through the public front, signed for `signedUrl` (default: the URL it is sent to). */
  function twilioCallback(
    params: Record<string, string>,
    options: { sentAt?: number; token?: string | null; signedUrl?: string; headers?: Record<string, string>; body?: string } = {},
  ) {
    const url = twilioStatusCallbackUrl(front.url, options.sentAt ?? Date.now());
    const signature = options.token === null ? undefined : twilioSignature(options.token ?? AUTH_TOKEN, options.signedUrl ?? url, params);
    return fetch(url, {
      method: "POST",
      headers: {
        "Content-Type": "application/x-www-form-urlencoded",
        ...(signature !== undefined && { "X-Twilio-Signature": signature }),
        ...options.headers,
      },
      body: options.body ?? new URLSearchParams(params).toString(),
    });
  }

  let event = 0;
  function telnyxBody(id = `evt-${++event}`, padding = "") {
    return JSON.stringify({
      data: {
        event_type: "message.finalized",
        id,
        payload: {
          id: `msg-${id}`,
          direction: "outbound",
          to: [{ phone_number: GB, status: "delivered" }],
          text: OTP_BODY.message + padding,
          received_at: new Date(Date.now() - 2000).toISOString(),
          completed_at: new Date().toISOString(),
        },
      },
      meta: { attempt: 1 },
    });
  }
  function telnyxWebhook(body: string, headers: Record<string, string> | null = telnyxSignatureHeaders(TELNYX_SIGNER, body, Date.now() / 1000)) {
    return fetch(`${front.url}/receipts/telnyx`, { method: "POST", headers: { "Content-Type": "application/json", ...headers }, body });
  }

  /** Runs `send`, returns "status code" and the log lines it added. */
  async function refusal(send: () => Promise<Response>) {
    const before = gateway.logs.length;
    const res = await send();
    const body = (await res.json()) as { status?: string; error?: { code: string } };
    // The access log is written when the answer finishes: wait for it rather than race it.
    await expect.poll(() => gateway.logs.length).toBeGreaterThan(before);
    return { outcome: `${res.status} ${body.error?.code ?? body.status}`, added: lines(gateway).slice(before) };
  }

  function onlyTheAccessLog(added: Record<string, unknown>[], path: string, status: number) {
    expect(added).toEqual([
      expect.objectContaining({ message: `POST ${path} ${status}`, httpRequest: expect.objectContaining({ status }) }),
    ]);
    expect(added[0]).not.toHaveProperty("event");
  }

  it.each<[string, () => Promise<Response>, string]>([
    ["unsigned", () => twilioCallback(twilioForm(nextSid()), { token: null }), "401 signature_missing"],
    ["signed with another account's token", () => twilioCallback(twilioForm(nextSid()), { token: "another-auth-token" }), "403 signature_invalid"],
    [
      "signed for the URL the gateway sees, not the public one",
      () => {
        const sentAt = Date.now();
        return twilioCallback(twilioForm(nextSid()), { sentAt, signedUrl: twilioStatusCallbackUrl(gateway.url, sentAt) });
      },
      "403 signature_invalid",
    ],
    ["stamped two hours before", () => twilioCallback(twilioForm(nextSid()), { sentAt: Date.now() - 2 * 3_600_000 }), "403 receipt_expired"],
    [
      "over 16 KiB",
      () => {
        const params = { ...twilioForm(nextSid()), Padding: "x".repeat(17 * 1024) };
        return twilioCallback(params);
      },
      "413 payload_too_large",
    ],
    ["as JSON", () => twilioCallback(twilioForm(nextSid()), { headers: { "Content-Type": "application/json" } }), "415 unsupported_media_type"],
  ])("Twilio, %s: refused with only the access log line", async (_label, send, expected) => {
    const { outcome, added } = await refusal(send);
    expect(outcome).toBe(expected);
    onlyTheAccessLog(added, "/receipts/twilio", Number(expected.slice(0, 3)));
  });

  it.each<[string, () => Promise<Response>, string]>([
    ["unsigned", () => telnyxWebhook(telnyxBody(), null), "401 signature_missing"],
    [
      "signed with another key",
      () => {
        const body = telnyxBody();
        return telnyxWebhook(body, telnyxSignatureHeaders(generateTelnyxSigningKey(), body, Date.now() / 1000));
      },
      "403 signature_invalid",
    ],
    [
      "signed six minutes ago",
      () => {
        const body = telnyxBody();
        return telnyxWebhook(body, telnyxSignatureHeaders(TELNYX_SIGNER, body, Date.now() / 1000 - 360));
      },
      "403 receipt_expired",
    ],
    ["over 16 KiB", () => telnyxWebhook(telnyxBody(undefined, "x".repeat(17 * 1024))), "413 payload_too_large"],
  ])("Telnyx, %s: refused with only the access log line", async (_label, send, expected) => {
    const { outcome, added } = await refusal(send);
    expect(outcome).toBe(expected);
    onlyTheAccessLog(added, "/receipts/telnyx", Number(expected.slice(0, 3)));
  });

  it("Twilio: a forgery refused first does not block the real callback; its replay is refused", async () => {
    const params = twilioForm(nextSid());
    expect((await refusal(() => twilioCallback(params, { token: "forger" }))).outcome).toBe("403 signature_invalid");
    const accepted = await refusal(() => twilioCallback(params));
    expect(accepted.outcome).toBe("200 received");
    expect(accepted.added.map((l) => l.event ?? l.message)).toEqual(["sms.receipt", "POST /receipts/twilio 200"]);
    const replay = await refusal(() => twilioCallback(params));
    expect(replay.outcome).toBe("409 receipt_replayed");
    onlyTheAccessLog(replay.added, "/receipts/twilio", 409);
  });

  it("Telnyx: a forgery refused first does not block the real webhook; its replay is refused", async () => {
    const body = telnyxBody();
    const forged = await refusal(() => telnyxWebhook(body, telnyxSignatureHeaders(generateTelnyxSigningKey(), body, Date.now() / 1000)));
    expect(forged.outcome).toBe("403 signature_invalid");
    const headers = telnyxSignatureHeaders(TELNYX_SIGNER, body, Date.now() / 1000);
    const accepted = await refusal(() => telnyxWebhook(body, headers));
    expect(accepted.outcome).toBe("200 received");
    expect(accepted.added.map((l) => l.event ?? l.message)).toEqual(["sms.receipt", "POST /receipts/telnyx 200"]);
    const replay = await refusal(() => telnyxWebhook(body, headers));
    expect(replay.outcome).toBe("409 receipt_replayed");
    onlyTheAccessLog(replay.added, "/receipts/telnyx", 409);
  });

  it("receipts never ask for X-API-Key: none, or a wrong one, is not a 401", async () => {
    const none = await refusal(() => twilioCallback(twilioForm(nextSid())));
    const wrong = await refusal(() => twilioCallback(twilioForm(nextSid()), { headers: { "X-API-Key": "not-the-gateway-key" } }));
    const telnyxWrong = await refusal(() => {
      const body = telnyxBody();
      return fetch(`${front.url}/receipts/telnyx`, {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-API-Key": "wrong", ...telnyxSignatureHeaders(TELNYX_SIGNER, body, Date.now() / 1000) },
        body,
      });
    });
    expect([none.outcome, wrong.outcome, telnyxWrong.outcome]).toEqual(["200 received", "200 received", "200 received"]);
    // The send path beside them still does.
    expect((await post(`${gateway.url}/send-sms`, OTP_BODY, { "X-API-Key": "not-the-gateway-key" })).status).toBe(401);
  });
});

describe("receipts off", () => {
  let gateway: TestGateway | undefined;
  afterEach(async () => {
    await gateway?.close();
    gateway = undefined;
    twilio.reset();
    telnyx.reset();
  });

  async function probe(g: TestGateway, path: string): Promise<number> {
    const res = await fetch(`${g.url}${path}`, { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" });
    await res.body?.cancel();
    return res.status;
  }

  it("API-key Twilio credentials and no TELNYX_PUBLIC_KEY: no endpoint, no StatusCallback, no webhook_url; ValidityPeriod still set", async () => {
    gateway = await startGatewayFromEnv(
      env(
        { twilio, telnyx },
        {
          TWILIO_AUTH_TOKEN: undefined,
          TWILIO_API_KEY_SID: `SK${"5".repeat(32)}`,
          TWILIO_API_KEY_SECRET: "api-key-secret-receipts-off",
          TELNYX_PUBLIC_KEY: undefined,
        },
      ),
    );
    expect([await probe(gateway, "/receipts/twilio"), await probe(gateway, "/receipts/telnyx")]).toEqual([404, 404]);
    await sendOtp(gateway, US);
    await sendOtp(gateway, GB);
    expect(twilio.received).toEqual([expect.objectContaining({ statusCallback: null, validityPeriod: "600" })]);
    expect(telnyx.received).toEqual([expect.objectContaining({ webhookUrl: null })]);
  });

  it("no PUBLIC_BASE_URL: no Twilio endpoint nor StatusCallback; the Telnyx endpoint stays for the messaging profile's webhooks", async () => {
    gateway = await startGatewayFromEnv(env({ twilio, telnyx }, { PUBLIC_BASE_URL: undefined, OTP_VALIDITY_S: "120" }));
    expect(await probe(gateway, "/receipts/twilio")).toBe(404);
    expect(await probe(gateway, "/receipts/telnyx")).toBe(401); // mounted: an unsigned request is refused
    await sendOtp(gateway, US);
    await sendOtp(gateway, GB);
    expect(twilio.received).toEqual([expect.objectContaining({ statusCallback: null, validityPeriod: "120" })]);
    expect(telnyx.received).toEqual([expect.objectContaining({ webhookUrl: null })]);
  });
});
