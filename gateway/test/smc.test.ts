import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startFakeSmc, type FakeSmc, type SmcFault } from "../../scripts/emulators/smc.ts";
import type { SmcConfig } from "../src/config.ts";
import { parseE164 } from "../src/phone.ts";
import type { AttemptContext, SmsProvider, SendOutcome } from "../src/providers/provider.ts";
import { createSmcProvider } from "../src/providers/smc/index.ts";
import { createHttpTransport, type HttpTransport } from "../src/providers/transport.ts";

/**
 * The SMC provider over the shared transport against the loopback fake: both token endpoints, the MobileConnect
 * send as Salesforce documents it, 401 → one refresh and one re-send, 429, 5xx, and the token shared by a burst.
 */

const CLIENT_ID = "smc-client-id-0001";
const CLIENT_SECRET = "smc-client-secret-never-logged-0001";
const MESSAGE_ID = "MzA6Nzg6MA";
const OTP = "Your Acme code is 493817";
const DEADLINE_MS = 800;

function config(fake: FakeSmc, overrides: Partial<SmcConfig> = {}): SmcConfig {
  return {
    subdomain: "mc-test-subdomain",
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    messageId: MESSAGE_ID,
    packageType: "enhanced",
    accountId: undefined,
    keyword: undefined,
    authBaseUrl: fake.url,
    restBaseUrl: undefined,
    ...overrides,
  };
}

function ctx(deadlineMs = DEADLINE_MS, now = Date.now()): AttemptContext {
  const controller = new AbortController();
  const deadline = now + deadlineMs;
  setTimeout(() => controller.abort(), deadlineMs).unref();
  return { signal: controller.signal, deadline, startBy: deadline, sender: {} };
}

const sms = { to: parseE164("+14155552671")!, body: OTP, senderId: undefined };

describe("SMC provider", () => {
  let fake: FakeSmc;
  let transport: HttpTransport;
  beforeAll(() => {
    transport = createHttpTransport({ maxSockets: 64 });
  });
  afterAll(() => transport.close());
  afterEach(async () => fake?.close());

  async function start(overrides: Partial<SmcConfig> = {}) {
    fake = await startFakeSmc({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, messageId: MESSAGE_ID });
    return createSmcProvider(config(fake, overrides), { transport });
  }

  it("enhanced: one /v2/token, then the MobileConnect send as documented; the id is tokenId", async () => {
    const provider = await start({ accountId: "514000123" });
    expect(await provider.attempt(sms, ctx())).toEqual({ kind: "sent", id: expect.stringMatching(/^[0-9a-f]{24}$/) });
    expect(fake.tokenRequests).toEqual([
      { endpoint: "/v2/token", clientId: CLIENT_ID, accountId: "514000123", secretMatched: true, answeredWith: 200 },
    ]);
    expect(fake.sends).toEqual([
      {
        messageId: MESSAGE_ID,
        mobileNumbers: ["14155552671"],
        messageText: OTP,
        override: true,
        subscribe: undefined,
        resubscribe: undefined,
        keyword: undefined,
        answeredWith: 202,
      },
    ]);
  });

  it("legacy: /v1/requestToken with camelCase fields", async () => {
    await start();
    // A legacy token has no rest_instance_url: the REST host is configured (here: the fake).
    const legacy = createSmcProvider(config(fake, { packageType: "legacy", restBaseUrl: fake.url }), { transport });
    expect(await legacy.attempt(sms, ctx())).toMatchObject({ kind: "sent" });
    expect(fake.tokenRequests.map((t) => [t.endpoint, t.clientId, t.secretMatched])).toEqual([["/v1/requestToken", CLIENT_ID, true]]);
    expect(fake.sends).toHaveLength(1);
  });

  it("SMC_KEYWORD: subscribe and resubscribe with the keyword", async () => {
    const provider = await start({ keyword: "OTPJOIN" });
    await provider.attempt(sms, ctx());
    expect(fake.sends[0]).toMatchObject({ subscribe: true, resubscribe: true, keyword: "OTPJOIN" });
  });

  it("reuses the token across sends", async () => {
    const provider = await start();
    for (let i = 0; i < 3; i++) expect(await provider.attempt(sms, ctx())).toMatchObject({ kind: "sent" });
    expect(fake.tokenRequests).toHaveLength(1);
    expect(fake.sends).toHaveLength(3);
  });

  it("50 concurrent sends → one token request", async () => {
    const provider = await start();
    const outcomes = await Promise.all(Array.from({ length: 50 }, () => provider.attempt(sms, ctx(5000))));
    expect(outcomes.filter((o) => o.kind === "sent")).toHaveLength(50);
    expect(fake.tokenRequests).toHaveLength(1);
    expect(fake.sends).toHaveLength(50);
  });

  it("401 on send (token revoked) → one new token, the send repeated once", async () => {
    const provider = await start();
    await provider.attempt(sms, ctx());
    fake.revokeTokens();
    expect(await provider.attempt(sms, ctx())).toMatchObject({ kind: "sent" });
    expect(fake.tokenRequests).toHaveLength(2);
    expect(fake.sends.map((s) => s.answeredWith)).toEqual([202, 401, 202]);
  });

  it("401 again with the fresh token → provider rejected, no third send", async () => {
    const provider = await start();
    fake.sendFaults.enqueue({ kind: "error", status: 401 }, { kind: "error", status: 401 });
    expect(await provider.attempt(sms, ctx())).toMatchObject({ kind: "provider_rejected", code: "401" });
    expect(fake.tokenRequests).toHaveLength(2);
    expect(fake.sends).toHaveLength(2);
  });

  it("a token that expires is fetched again before it lapses", async () => {
    // 61 s lifetime, 60 s margin: usable for one second, so the second send (after >1 s of clock) refetches.
    let clock = Date.now();
    fake = await startFakeSmc({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, messageId: MESSAGE_ID, tokenLifetimeSeconds: 61 });
    const provider = createSmcProvider(config(fake), { transport, now: () => clock });
    await provider.attempt(sms, ctx(DEADLINE_MS, clock));
    clock += 1001;
    await provider.attempt(sms, ctx(DEADLINE_MS, clock));
    expect(fake.tokenRequests).toHaveLength(2);
    expect(fake.sends.map((s) => s.answeredWith)).toEqual([202, 202]);
  });

  it.each<[string, SmcFault[], Partial<SendOutcome>, number]>([
    ["429/50100 with Retry-After 5 → throttled, not waited for", [{ kind: "rateLimit" }], { kind: "provider_rejected", code: "50100", throttled: true, retryAfterMs: 5000 }, 1],
    ["429/50100 with Retry-After 0 → sent after one retry", [{ kind: "rateLimit", retryAfterSeconds: 0 }], { kind: "sent" }, 2],
    ["429/50200 blocked → throttled, not retried", [{ kind: "rateLimit", blocked: true }], { kind: "provider_rejected", code: "50200", throttled: true, noRetry: true }, 1],
    ["400 → provider rejected", [{ kind: "error", status: 400 }], { kind: "provider_rejected", code: "400" }, 1],
    ["403/20002 → provider rejected", [{ kind: "error", status: 403, errorcode: 20002 }], { kind: "provider_rejected", code: "20002" }, 1],
    ["500 → unknown, not re-sent", [{ kind: "error", status: 500 }], { kind: "unknown" }, 1],
    ["503 → unknown, not re-sent", [{ kind: "error", status: 503 }], { kind: "unknown" }, 1],
    ["a reset after the request → unknown, not re-sent", [{ kind: "reset" }], { kind: "unknown", code: "network" }, 1],
    ["a 202 without tokenId → unknown", [{ kind: "noId" }], { kind: "unknown" }, 1],
    ["a 308 → provider rejected, not followed", [{ kind: "redirect", status: 308 }], { kind: "provider_rejected", code: "308" }, 1],
    ["a hang → unknown at the deadline", [{ kind: "hang" }], { kind: "unknown", code: "deadline" }, 1],
  ])("send: %s", async (_label, faults, expected, sends) => {
    const provider = await start();
    fake.sendFaults.enqueue(...faults);
    const outcome = await provider.attempt(sms, ctx());
    expect(outcome).toMatchObject(expected);
    expect(fake.sends).toHaveLength(sends);
    expect(JSON.stringify(outcome)).not.toMatch(/4155552671|493817/);
  });

  it.each<[string, SmcFault | undefined, Partial<SmcConfig>, Partial<SendOutcome>]>([
    ["a wrong client secret → provider rejected, no send", undefined, { clientSecret: "wrong-secret" }, { kind: "provider_rejected", code: "token_401" }],
    ["the token endpoint answers 500 → provider rejected (the SMS was not sent)", { kind: "error", status: 500 }, {}, { kind: "provider_rejected", code: "token_500" }],
    ["the token endpoint is throttled → provider rejected, throttled", { kind: "rateLimit", blocked: true }, {}, { kind: "provider_rejected", code: "token_429", throttled: true }],
    ["the token endpoint resets → provider rejected", { kind: "reset" }, {}, { kind: "provider_rejected", code: "token_network" }],
    ["the token endpoint hangs → provider rejected when the send's time is up", { kind: "hang" }, {}, { kind: "provider_rejected", code: "not_started" }],
  ])("token: %s", async (_label, fault, overrides, expected) => {
    const provider: SmsProvider = await start(overrides);
    if (fault) fake.tokenFaults.enqueue(fault);
    const outcome = await provider.attempt(sms, ctx());
    expect(outcome).toMatchObject(expected);
    expect(fake.sends).toHaveLength(0);
    expect(JSON.stringify(outcome)).not.toContain(CLIENT_SECRET);
  });
});
