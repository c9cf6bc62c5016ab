import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { closedPort } from "../../scripts/emulators/fakeHttp.ts";
import { startFakeTelnyx, type FakeTelnyx, type TelnyxFault } from "../../scripts/emulators/telnyx.ts";
import type { TelnyxConfig } from "../src/config.ts";
import { parseE164 } from "../src/phone.ts";
import type { AttemptContext, SendOutcome } from "../src/providers/provider.ts";
import { createTelnyxProvider } from "../src/providers/telnyx/index.ts";
import { createHttpTransport, type HttpTransport } from "../src/providers/transport.ts";

/**
 * The Telnyx provider over the shared transport against the loopback fake: what Telnyx receives, the outcome of
 * each answer, and how many requests each case cost (a 5xx, a reset or a hang is never re-sent).
 */

const KEY = "KEYtelnyx-test-never-logged-0001";
const PROFILE = "400174af-0a13-4e28-b4f5-4d2b5f1b2a3c";
const OTP = "Your Acme code is 493817";
const DEADLINE_MS = 800;

function config(apiBaseUrl: string, overrides: Partial<TelnyxConfig> = {}): TelnyxConfig {
  return { apiKey: KEY, fromNumber: "+14155550111", messagingProfileId: undefined, apiBaseUrl, ...overrides };
}

function ctx(sender: AttemptContext["sender"] = {}, deadlineMs = DEADLINE_MS): AttemptContext {
  const controller = new AbortController();
  const deadline = Date.now() + deadlineMs;
  setTimeout(() => controller.abort(), deadlineMs).unref();
  return { signal: controller.signal, deadline, startBy: deadline, sender };
}

const sms = (phone = "+14155552671") => ({ to: parseE164(phone)!, body: OTP, senderId: undefined });

describe("Telnyx provider", () => {
  let fake: FakeTelnyx;
  let transport: HttpTransport;
  beforeAll(async () => {
    fake = await startFakeTelnyx({ apiKey: KEY });
    transport = createHttpTransport({ maxSockets: 8 });
  });
  afterAll(async () => {
    transport.close();
    await fake.close();
  });
  beforeEach(() => fake.reset());

  it("sends to, from and text with the Bearer key; the id is data.id", async () => {
    const outcome = await createTelnyxProvider(config(fake.url), { transport }).attempt(sms(), ctx());
    expect(outcome).toEqual({ kind: "sent", id: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    expect(fake.received).toEqual([
      { to: "+14155552671", from: "+14155550111", text: OTP, messagingProfileId: null, webhookUrl: null, authorized: true, answeredWith: 200 },
    ]);
  });

  it("with receipts on, each message names the gateway's receipt endpoint as its webhook_url", async () => {
    // Nothing listens there: the fake's webhooks fail on loopback (the receipts tests cover their arrival).
    const webhookUrl = `http://127.0.0.1:${await closedPort()}/receipts/telnyx`;
    const provider = createTelnyxProvider(config(fake.url), { transport, webhookUrl });
    await provider.attempt(sms(), ctx());
    await provider.attempt(sms("+447911123456"), ctx());
    expect(fake.received.map((r) => r.webhookUrl)).toEqual([webhookUrl, webhookUrl]);
    await fake.webhooksSettled();
    expect(fake.webhooks.map((w) => [w.url, w.eventType, w.answeredWith])).toEqual([
      [webhookUrl, "message.sent", "error"],
      [webhookUrl, "message.sent", "error"],
    ]);
  });

  it.each<[string, AttemptContext["sender"], Partial<TelnyxConfig>, { from: string | null; messagingProfileId: string | null }]>([
    ["the route's from overrides the default", { from: "+14155550199" }, {}, { from: "+14155550199", messagingProfileId: null }],
    ["a profile goes with every message", {}, { messagingProfileId: PROFILE }, { from: "+14155550111", messagingProfileId: PROFILE }],
    ["a profile alone (number pool)", {}, { fromNumber: undefined, messagingProfileId: PROFILE }, { from: null, messagingProfileId: PROFILE }],
    ["Mosaic's sender_id with a profile", { alphanumeric: "Acme" }, { messagingProfileId: PROFILE }, { from: "Acme", messagingProfileId: PROFILE }],
    ["Mosaic's sender_id without a profile is not used", { alphanumeric: "Acme" }, {}, { from: "+14155550111", messagingProfileId: null }],
  ])("%s", async (_label, sender, overrides, expected) => {
    await createTelnyxProvider(config(fake.url, overrides), { transport }).attempt(sms("+447911123456"), ctx(sender));
    expect(fake.received).toEqual([expect.objectContaining(expected)]);
  });

  it.each<[string, TelnyxFault[], Partial<SendOutcome>, number]>([
    ["409/40300 opted out → destination rejected", [{ kind: "error", status: 409, code: "40300" }], { kind: "destination_rejected", code: "40300" }, 1],
    ["400/40310 invalid to → destination rejected", [{ kind: "error", status: 400, code: "40310" }], { kind: "destination_rejected", code: "40310" }, 1],
    ["400/40305 invalid from → provider rejected", [{ kind: "error", status: 400, code: "40305" }], { kind: "provider_rejected", code: "40305" }, 1],
    ["403/40309 region not enabled → provider rejected", [{ kind: "error", status: 403, code: "40309" }], { kind: "provider_rejected", code: "40309" }, 1],
    ["500/10007 → unknown, not re-sent", [{ kind: "error", status: 500, code: "10007" }], { kind: "unknown", code: "10007" }, 1],
    ["a reset after the request → unknown, not re-sent", [{ kind: "reset" }], { kind: "unknown", code: "network" }, 1],
    ["a 200 that is not JSON → unknown", [{ kind: "invalidJson" }], { kind: "unknown" }, 1],
    ["a 200 without data.id → unknown", [{ kind: "noId" }], { kind: "unknown" }, 1],
    ["a 307 → provider rejected, not followed", [{ kind: "redirect", status: 307 }], { kind: "provider_rejected", code: "307" }, 1],
    ["429 then 200 → sent after one retry", [{ kind: "rateLimit" }], { kind: "sent" }, 2],
    ["429 with a Retry-After past the deadline → throttled, not waited for", [{ kind: "rateLimit", retryAfterSeconds: 5 }], { kind: "provider_rejected", throttled: true, retryAfterMs: 5000 }, 1],
    ["a hang → unknown at the deadline, not re-sent", [{ kind: "hang" }], { kind: "unknown", code: "deadline" }, 1],
  ])("%s", async (_label, faults, expected, requests) => {
    fake.enqueue(...faults);
    const outcome = await createTelnyxProvider(config(fake.url), { transport }).attempt(sms(), ctx());
    expect(outcome).toMatchObject(expected);
    expect(fake.received).toHaveLength(requests);
    expect(JSON.stringify(outcome)).not.toMatch(/4155552671|493817/);
  });

  it("429 forever → throttled after at most 3 requests", async () => {
    fake.always({ kind: "rateLimit", retryAfterSeconds: 0 });
    const outcome = await createTelnyxProvider(config(fake.url), { transport }).attempt(sms(), ctx());
    expect(outcome).toMatchObject({ kind: "provider_rejected", throttled: true });
    expect(fake.received).toHaveLength(3);
  });

  it("a wrong key → provider rejected (10009)", async () => {
    const outcome = await createTelnyxProvider(config(fake.url, { apiKey: "KEYwrong" }), { transport }).attempt(sms(), ctx());
    expect(outcome).toMatchObject({ kind: "provider_rejected", code: "10009" });
  });

  it("a refused connection → provider rejected, nothing written", async () => {
    const outcome = await createTelnyxProvider(config(`http://127.0.0.1:${await closedPort()}`), { transport }).attempt(sms(), ctx());
    expect(outcome).toMatchObject({ kind: "provider_rejected", code: "not_connected" });
  });

  it("no time left before the first write → provider rejected, nothing written", async () => {
    const c = ctx();
    const outcome = await createTelnyxProvider(config(fake.url), { transport }).attempt(sms(), { ...c, startBy: Date.now() - 1 });
    expect(outcome).toMatchObject({ kind: "provider_rejected", code: "not_started" });
    expect(fake.received).toHaveLength(0);
  });
});
