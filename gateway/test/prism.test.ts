/**
 * The real `twilio` SDK, through the gateway's transport, against Prism serving Twilio's official OpenAPI spec
 * (`@twilio-alpha/mcp` ships twilio-oai). Prism validates every request against the spec: path (AccountSid
 * pattern), Basic auth, Content-Type, required `To`, `MessagingServiceSid` pattern, `StatusCallback` format.
 * An invalid request gets Prism's 422 problem document, which the provider turns into a rejected send, so a
 * send that breaks the spec fails these tests. Prism's `phone-number` format is not checked by its validator
 * (unknown format), so E.164 correctness is pinned by the phone tests instead.
 *
 * `--errors` also turns violations of Prism's own responses into errors, so a 201 here is one that matches the
 * spec's schema too. Without it, invalid requests still get 422 (checked with prism-cli 5.14.2).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { TwilioConfig } from "../src/config.ts";
import type { TwilioProviderOptions } from "../src/providers/twilio/index.ts";
import { createApp } from "../src/app.ts";
import { singleRoute } from "../src/delivery/routes.ts";
import { createLogger } from "../src/log.ts";
import { parseE164 } from "../src/phone.ts";
import { createHttpTransport } from "../src/providers/transport.ts";
import { createTwilioProvider } from "../src/providers/twilio/index.ts";
import { createTwilioTransport } from "../src/providers/twilio/httpClient.ts";
import { RECENT_PAGE_SIZE } from "../src/providers/twilio/lookup.ts";
import { createSender } from "../src/send.ts";
import { REPO_ROOT } from "../../scripts/processes.ts";
import { ACCOUNT_SID, AUTH_TOKEN, SERVICE_SID, twilioConfig } from "./support.ts";

const FROM_NUMBER = "+15005550006"; // support.ts's twilioConfig sender

const SPEC = path.join(REPO_ROOT, "node_modules/@twilio-alpha/mcp/twilio-oai/spec/json/twilio_api_v2010.json");
const PRISM = path.join(REPO_ROOT, "node_modules/@stoplight/prism-cli/dist/index.js");
const READY_TIMEOUT_MS = 30_000;

const API_KEY_SID = `SK${"00112233445566778899aabbccddeeff"}`;
const TO = "+14155552671";
const OTP_TEXT = "Your code is 123456";

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** Any HTTP answer (Prism says 404 for `/`) means it is listening. */
function answers(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get(url, (res) => {
      res.resume();
      resolve(true);
    });
    req.setTimeout(1000, () => req.destroy());
    req.on("error", () => resolve(false));
  });
}

let prism: ChildProcess;
let prismUrl: string;
let prismLog = "";

async function startPrism(): Promise<void> {
  const port = await freePort();
  prismUrl = `http://127.0.0.1:${port}`;
  prism = spawn(process.execPath, [PRISM, "mock", SPEC, "-h", "127.0.0.1", "-p", String(port), "--errors"], {
    cwd: REPO_ROOT,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" },
  });
  prism.stdout!.on("data", (chunk: Buffer) => (prismLog += chunk.toString("utf8")));
  prism.stderr!.on("data", (chunk: Buffer) => (prismLog += chunk.toString("utf8")));
  let exited: number | null | undefined;
  prism.once("exit", (code) => (exited = code));
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!(await answers(`${prismUrl}/`))) {
    if (exited !== undefined) throw new Error(`prism exited with ${exited} before listening:\n${prismLog}`);
    if (Date.now() > deadline) throw new Error(`prism did not listen within ${READY_TIMEOUT_MS} ms:\n${prismLog}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function stopPrism(): Promise<void> {
  if (!prism || prism.exitCode !== null || prism.signalCode !== null) return;
  const gone = new Promise<void>((resolve) => prism.once("exit", () => resolve()));
  prism.kill("SIGTERM");
  const timer = setTimeout(() => prism.kill("SIGKILL"), 5000);
  await gone;
  clearTimeout(timer);
}

/** Prism writes its log line a moment after it answers: wait for it (bounded) instead of racing it. */
function settled(assertion: () => void): Promise<void> {
  return vi.waitFor(assertion, { timeout: 3000, interval: 20 });
}

/** Prism's own verdicts, from its log: one line per validated request. */
function verdicts() {
  return {
    passed: prismLog.match(/The request passed the validation rules/g)?.length ?? 0,
    failed: prismLog.match(/Request did not pass the validation rules/g)?.length ?? 0,
  };
}

/** The shared test config (support.ts), pointed at Prism. */
function prismConfig(overrides: Partial<TwilioConfig> = {}): TwilioConfig {
  return twilioConfig(prismUrl, overrides);
}

function sendOnce(config: TwilioConfig, to = TO, options: Omit<TwilioProviderOptions, "transport"> = {}) {
  const transport = createHttpTransport({ maxSockets: 4 });
  const provider = createTwilioProvider(config, { transport, ...options });
  const destination = parseE164(to);
  if (!destination) throw new Error(`test setup: ${to} is not E.164`);
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error("test deadline")), 10_000);
  const deadline = Date.now() + 10_000;
  return provider
    .attempt({ to: destination, body: OTP_TEXT, senderId: undefined }, { signal: controller.signal, deadline, startBy: deadline, sender: {} })
    .finally(() => {
      clearTimeout(timer);
      transport.close();
    });
}

beforeAll(startPrism, READY_TIMEOUT_MS + 5000);
afterAll(stopPrism);

describe("the spec Prism serves", () => {
  it("has only document-local $refs, so Prism resolves nothing over the network", () => {
    const refs = [...readFileSync(SPEC, "utf8").matchAll(/"\$ref"\s*:\s*"([^"]*)"/g)].map((m) => m[1]!);
    expect(refs.length).toBeGreaterThan(0);
    expect(refs.filter((ref) => !ref.startsWith("#"))).toEqual([]);
  });
});

describe("Twilio SDK sends pass Prism's validation of Twilio's OpenAPI spec", () => {
  it.each([
    ["From number, auth token", () => prismConfig()],
    ["Messaging Service SID, auth token", () => prismConfig({ sender: { kind: "messagingService", messagingServiceSid: SERVICE_SID } })],
    ["From number, API key", () => prismConfig({ auth: { kind: "apiKey", keySid: API_KEY_SID, keySecret: "prism-test-key-secret" } })],
  ])("%s: 201 and a message SID", async (_name, config) => {
    const before = verdicts();
    const result = await sendOnce(config());
    // Prism answers the spec's example resource.
    expect(result).toEqual({ kind: "sent", id: expect.stringMatching(/^SM[0-9a-fA-F]{32}$/) });
    await settled(() => expect(verdicts()).toEqual({ passed: before.passed + 1, failed: before.failed }));
  });

  it("with receipts on, StatusCallback (the public receipt URL) and ValidityPeriod pass too", async () => {
    const before = verdicts();
    const result = await sendOnce(prismConfig(), TO, { statusCallbackBaseUrl: "https://sms-gateway-abc123-uc.a.run.app", validityPeriodS: 600 });
    expect(result).toMatchObject({ kind: "sent" });
    await settled(() => expect(verdicts()).toEqual({ passed: before.passed + 1, failed: before.failed }));
  });

  it("a whole app POST reaches Prism and answers 200 with the SID", async () => {
    const transport = createHttpTransport({ maxSockets: 4 });
    const provider = createTwilioProvider(prismConfig(), { transport });
    const send = createSender({
      table: singleRoute("twilio", false),
      providers: new Map([["twilio", provider]]),
      failoverOnUnknown: false,
      now: Date.now,
    });
    const app = createApp({
      config: { path: "/send-sms", apiKeys: ["prism-test-gateway-key"], sendTimeoutMs: 8000, projectId: undefined },
      send,
      logger: createLogger(() => {}),
    });
    const server = http.createServer(app);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const before = verdicts();
      const { port } = server.address() as AddressInfo;
      const res = await fetch(`http://127.0.0.1:${port}/send-sms`, {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-API-Key": "prism-test-gateway-key" },
        body: JSON.stringify({ phone_number: TO, sender_id: "", message: OTP_TEXT }),
      });
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ status: "sent", provider: "twilio", id: expect.stringMatching(/^SM/) });
      await settled(() => expect(verdicts()).toEqual({ passed: before.passed + 1, failed: before.failed }));
    } finally {
      transport.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe("the look-up (issue 11): the SDK's Messages list reads pass Prism's validation", () => {
  // Prism validates the request (To, `DateSent>`=YYYY-MM-DD, PageSize, Basic auth), then answers the spec's own
  // example page — whose relative `first_page_uri` breaks the spec's `format: uri`, so `--errors` turns it into a
  // 500. The look-up must read that as no answer ("cannot_tell"), never as "absent".
  it("To and DateSent>= (the day): valid; Prism's broken example answer is no answer: cannot tell", async () => {
    const transport = createHttpTransport({ maxSockets: 4 });
    try {
      const provider = createTwilioProvider(prismConfig(), { transport });
      const before = verdicts();
      const answer = await provider.lookup!(
        { to: parseE164(TO)!, body: OTP_TEXT, senderId: undefined },
        { since: Date.now(), signal: AbortSignal.timeout(10_000), startBy: Date.now() + 10_000 },
      );
      expect(answer).toBe("cannot_tell");
      await settled(() => expect(verdicts()).toEqual({ passed: before.passed + 1, failed: before.failed }));
    } finally {
      transport.close();
    }
  });

  it("the unfiltered page of the newest messages to the number: valid", async () => {
    const transport = createHttpTransport({ maxSockets: 1 });
    try {
      const before = verdicts();
      const res = await createTwilioTransport(transport, prismUrl)
        .bind({ signal: AbortSignal.timeout(10_000), startBy: Date.now() + 10_000 })
        .request({
          method: "GET",
          uri: `https://api.twilio.com/2010-04-01/Accounts/${ACCOUNT_SID}/Messages.json`,
          username: ACCOUNT_SID,
          password: AUTH_TOKEN,
          headers: { Accept: "application/json" },
          params: { To: TO, PageSize: RECENT_PAGE_SIZE },
        });
      // Valid request; the 500 is Prism refusing its own example answer (see above), not our request.
      expect(res.statusCode).toBe(500);
      expect(res.body).toContain("Response body property first_page_uri must match format");
      await settled(() => expect(verdicts()).toEqual({ passed: before.passed + 1, failed: before.failed }));
    } finally {
      transport.close();
    }
  });
});

describe("Prism's validation is on: requests that break the spec are refused", () => {
  it("the transport's POST without `To` gets 422 naming the missing property", async () => {
    const transport = createHttpTransport({ maxSockets: 1 });
    try {
      const before = verdicts();
      const res = await createTwilioTransport(transport, prismUrl).bind({ signal: AbortSignal.timeout(10_000), startBy: Date.now() + 10_000 }).request({
        method: "POST",
        uri: `https://api.twilio.com/2010-04-01/Accounts/${ACCOUNT_SID}/Messages.json`,
        username: ACCOUNT_SID,
        password: AUTH_TOKEN,
        headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" },
        data: { From: FROM_NUMBER, Body: OTP_TEXT },
      });
      expect(res.statusCode).toBe(422);
      expect(res.body).toContain("must have required property 'To'");
      await settled(() => expect(verdicts()).toEqual({ passed: before.passed, failed: before.failed + 1 }));
    } finally {
      transport.close();
    }
  });

  it("a provider configured with a malformed Messaging Service SID: Twilio refuses it, certainly not sent", async () => {
    const config = prismConfig({ sender: { kind: "messagingService", messagingServiceSid: "MG123" } });
    expect(await sendOnce(config)).toMatchObject({ kind: "provider_rejected" });
    await settled(() => expect(prismLog).toContain('MessagingServiceSid must match pattern "^MG[0-9a-fA-F]{32}$"'));
  });

  it.each([
    ["a StatusCallback that is not a URI", { statusCallbackBaseUrl: "not a url" }, "StatusCallback must match format \"uri\""],
    ["a ValidityPeriod that is not an integer", { validityPeriodS: 1.5 }, "ValidityPeriod must be integer"],
  ])("the receipt parameters are checked too: %s is refused", async (_label, options, message) => {
    expect(await sendOnce(prismConfig(), TO, options)).toMatchObject({ kind: "provider_rejected" });
    await settled(() => expect(prismLog).toContain(message));
  });

  it("a request without credentials is refused with 401 (Basic auth is part of the spec)", async () => {
    const res = await fetch(`${prismUrl}/2010-04-01/Accounts/${ACCOUNT_SID}/Messages.json`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ To: TO, From: FROM_NUMBER, Body: OTP_TEXT }),
    });
    expect(res.status).toBe(401);
    await res.body?.cancel();
  });
});
