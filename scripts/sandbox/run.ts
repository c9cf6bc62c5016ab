import { randomBytes } from "node:crypto";
import { startMosaicEmulator, type MosaicEmulator } from "../emulators/mosaic.ts";
import { startPublicFront, type PublicFront } from "../emulators/publicFront.ts";
import { redact } from "../register/format.ts";
import { within } from "../poll.ts";
import { runRegisterCli, startGateway, type RunningGateway, type Runtime } from "./processes.ts";

/** An SMS as a provider emulator received it (Twilio's form fields; Telnyx's `to`, `from`, `text` alike). */
export interface ReceivedSms {
  readonly To: string;
  readonly From?: string;
  readonly MessagingServiceSid?: string;
  readonly Body: string;
  /** The provider's id for it, where the emulator gives one. */
  readonly id?: string;
}

/** A provider emulator as the sandbox sees it. */
export interface ProviderFake {
  readonly url: string;
  /** The SMS it accepted. */
  messages(): readonly ReceivedSms[];
  /** Every send request it answered, refused ones included. */
  requests?(): number;
  /** Read-only look-ups it answered (Twilio: Messages list reads). */
  lookups?(): number;
  /** Resolves once every delivery receipt it started sending has been answered. */
  receiptsSettled?(): Promise<void>;
  /** The key its receipts verify with, when the gateway needs one (Telnyx: TELNYX_PUBLIC_KEY). */
  readonly receiptPublicKey?: string;
  close(): Promise<void>;
}

/** How the sandbox's Twilio emulator misbehaves. */
export interface TwilioBehaviour {
  /** Answer every send with this Twilio error. */
  refuse?: { status: number; code: number };
  /** Take the first send, then cut the connection before answering. */
  resetFirst?: boolean;
}

export interface SandboxDeps {
  readonly out: (line: string) => void;
  readonly startTwilio: (behaviour?: TwilioBehaviour) => Promise<ProviderFake>;
  readonly startTelnyx?: (apiKey: string) => Promise<ProviderFake>;
  /** Show the gateway's own JSON log lines. Default true. */
  readonly showGatewayLogs?: boolean;
}

/**
 * `send`: one provider (Twilio), one OTP. `failover`: SMS_ROUTES sends US numbers to Twilio, then Telnyx; the
 * Twilio emulator refuses every SMS (21408, the region is not enabled: a reason of ours, so another provider may
 * try), Telnyx sends it, and every attempt is printed. `retry`: the Twilio emulator takes the SMS but cuts the
 * connection before answering; Mosaic retries; the gateway's duplicate suppression (in memory, no Redis) asks
 * Twilio's Messages list, finds the first send and answers with its id: one SMS.
 */
export type Scenario = "send" | "failover" | "retry";
export const SCENARIOS: readonly Scenario[] = ["send", "failover", "retry"];

export interface SandboxOptions {
  readonly runtime: Runtime;
  readonly scenario?: Scenario;
  /** Destination of the OTP. Default +14155550123 (a valid US number of the 555-01xx fictional range). */
  readonly phoneNumber?: string;
}

export interface SandboxResult {
  readonly code: 0 | 1;
  readonly sms?: ReceivedSms;
  readonly otp?: string;
}

/** One provider attempt as the gateway's `sms.send` log line lists it. */
interface LoggedAttempt {
  provider: string;
  outcome: string;
  latencyMs: number;
  code?: string;
}

/** Twilio 21408: "Permission to send an SMS has not been enabled for the region" — ours, not the number's. */
const TWILIO_REFUSAL = { status: 400, code: 21408 };
const FAILOVER_ROUTES = { US: [{ provider: "twilio" }, { provider: "telnyx" }], "*": [{ provider: "twilio" }] };

/** One gateway JSON log line, shortened for a human: severity, message, then the remaining fields. */
export function formatGatewayLog(entry: Record<string, unknown>, raw: string): string {
  // httpRequest repeats what the message says ("GET /send-sms 200"); time adds nothing here.
  const { severity, message, time: _time, httpRequest: _http, latencyMs, ...rest } = entry;
  const fields = Object.entries(rest).map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`);
  const head = `${typeof severity === "string" ? `${severity} ` : ""}${typeof message === "string" ? message : raw}`;
  const latency = typeof latencyMs === "number" ? ` (${latencyMs} ms)` : "";
  return `${head}${latency} ${fields.join(" ")}`.trimEnd();
}

const hex = (bytes: number) => randomBytes(bytes).toString("hex");
/** A number of the 555-01xx fictional range: the Telnyx emulator accepts any sender. */
const TELNYX_FROM = "+15005550011";

/** The attempts of the gateway's sms.send line, which its log may print a moment after the answer. */
async function loggedAttempts(line: () => Record<string, unknown> | undefined): Promise<LoggedAttempt[]> {
  await within(() => line() !== undefined, 2000, 20);
  const attempts = line()?.attempts;
  if (!Array.isArray(attempts)) throw new Error("the gateway logged no sms.send line with attempts");
  return attempts as LoggedAttempt[];
}

/** A gateway `sms.receipt` line, shortened: provider, status, and for `delivered` the seconds since the send. */
export function formatReceipt(line: Record<string, unknown>): string {
  const seconds = typeof line.deliverySeconds === "number" ? ` after ${line.deliverySeconds} s` : "";
  const code = typeof line.providerErrorCode === "string" ? ` (error ${line.providerErrorCode})` : "";
  return `${String(line.provider).padEnd(7)} ${String(line.status)}${seconds}${code}, ${String(line.country)} ${String(line.destination)}`;
}

/** The receipt lines of one message, waited for until its final status arrives (bounded). */
async function receiptsOf(lines: readonly Record<string, unknown>[], id: string): Promise<Record<string, unknown>[]> {
  const mine = () => lines.filter((l) => l.providerMessageId === id);
  const final = () => mine().some((l) => l.status !== "queued" && l.status !== "sent");
  await within(final, 3000, 20);
  return mine();
}

/**
 * The whole flow offline: Twilio emulator, Mosaic emulator, the gateway as a child process, registration through
 * the real CLI, one OTP sent as Mosaic sends it, the SMS as Twilio received it, its delivery receipts as the
 * gateway verified and logged them; then everything stops.
 * Every credential is generated here and lives only for this run; none is printed.
 */
export async function runSandbox(options: SandboxOptions, deps: SandboxDeps): Promise<SandboxResult> {
  const scenario = options.scenario ?? "send";
  const secrets = {
    apiKey: hex(24),
    clientSecret: hex(24),
    twilioAuthToken: hex(16),
    telnyxApiKey: `KEY${hex(16)}`,
  };
  const accountSid = `AC${hex(16)}`;
  const from = "+15005550006"; // Twilio's documented magic "valid From" test number.
  const phone = options.phoneNumber ?? "+14155550123";
  const out = (line: string) => deps.out(redact(line, Object.values(secrets)));
  const step = (n: number, text: string) => out(`\n[${n}/7] ${text}`);

  let twilio: ProviderFake | undefined;
  let telnyx: ProviderFake | undefined;
  let mosaic: MosaicEmulator | undefined;
  let gateway: RunningGateway | undefined;
  let front: PublicFront | undefined;
  const sendLines: Record<string, unknown>[] = [];
  const receiptLines: Record<string, unknown>[] = [];
  let current = "start";
  try {
    if (scenario === "failover") {
      current = "start the Twilio and Telnyx emulators";
      step(1, `Twilio and Telnyx emulators (Twilio refuses every SMS: ${TWILIO_REFUSAL.status} / ${TWILIO_REFUSAL.code}, the region is not enabled)`);
      if (!deps.startTelnyx) throw new Error("no Telnyx emulator to start");
      twilio = await deps.startTwilio({ refuse: TWILIO_REFUSAL });
      telnyx = await deps.startTelnyx(secrets.telnyxApiKey);
      out(`      Twilio listening on ${twilio.url}`);
      out(`      Telnyx listening on ${telnyx.url}`);
    } else if (scenario === "retry") {
      current = "start the Twilio emulator";
      step(1, "Twilio emulator (it takes the first SMS, then cuts the connection before answering: the answer is lost)");
      twilio = await deps.startTwilio({ resetFirst: true });
      out(`      listening on ${twilio.url}`);
    } else {
      current = "start the Twilio emulator";
      step(1, "Twilio emulator");
      twilio = await deps.startTwilio();
      out(`      listening on ${twilio.url}`);
    }

    current = "start the Mosaic emulator";
    step(2, "Mosaic emulator");
    mosaic = await startMosaicEmulator({ clientId: "sandbox-management-app", clientSecret: secrets.clientSecret, log: (l) => out(`      mosaic │ ${l}`) });
    out(`      listening on ${mosaic.url}`);

    current = `start the gateway (${options.runtime})`;
    // Providers call the gateway back on its public URL, as on Cloud Run where the container sees another one.
    front = await startPublicFront();
    const runtimeName = options.runtime === "deno" ? "Deno" : "Node";
    step(
      3,
      telnyx
        ? `Gateway on ${runtimeName} (SMS_ROUTES: US → twilio, then telnyx)`
        : scenario === "retry"
          ? `Gateway on ${runtimeName} (SMS_PROVIDER=twilio; duplicate suppression on: DEDUPE_WINDOW_S=60, in-memory store)`
          : `Gateway on ${runtimeName} (SMS_PROVIDER=twilio → the Twilio emulator)`,
    );
    const twilioEnv = {
      TWILIO_ACCOUNT_SID: accountSid,
      TWILIO_AUTH_TOKEN: secrets.twilioAuthToken,
      TWILIO_FROM_NUMBER: from,
      TWILIO_API_BASE_URL: twilio.url,
    };
    const routeEnv: Record<string, string> = telnyx
      ? {
          SMS_ROUTES: JSON.stringify(FAILOVER_ROUTES),
          TELNYX_API_KEY: secrets.telnyxApiKey,
          TELNYX_FROM_NUMBER: TELNYX_FROM,
          TELNYX_API_BASE_URL: telnyx.url,
        }
      : { SMS_PROVIDER: "twilio" };
    if (telnyx) out(`      SMS_ROUTES=${JSON.stringify(FAILOVER_ROUTES)}`);
    const receiptEnv: Record<string, string> = {
      PUBLIC_BASE_URL: front.url,
      ...(telnyx?.receiptPublicKey !== undefined && { TELNYX_PUBLIC_KEY: telnyx.receiptPublicKey }),
    };
    out(`      PUBLIC_BASE_URL=${front.url} (a stand-in for Cloud Run's front end: delivery receipts come back through it)`);
    gateway = await startGateway(
      options.runtime,
      { GATEWAY_API_KEY: secrets.apiKey, ...twilioEnv, ...routeEnv, ...receiptEnv },
      (entry, raw) => {
        if (entry.event === "sms.send") sendLines.push(entry);
        if (entry.event === "sms.receipt") receiptLines.push(entry);
        if (deps.showGatewayLogs === false) return;
        out(`      gateway │ ${formatGatewayLog(entry, raw)}`);
      },
    );
    const gatewayUri = `http://127.0.0.1:${gateway.port}/send-sms`;
    front.forwardTo(`http://127.0.0.1:${gateway.port}`);
    out(`      listening on ${gatewayUri}`);

    current = "register the gateway with the Mosaic emulator";
    step(4, "Register through the real CLI (npm run register)");
    const code = await runRegisterCli(
      {
        MOSAIC_BASE_URL: mosaic.url,
        MOSAIC_CLIENT_ID: "sandbox-management-app",
        MOSAIC_CLIENT_SECRET: secrets.clientSecret,
        GATEWAY_URI: gatewayUri,
        GATEWAY_API_KEY: secrets.apiKey,
      },
      [],
      (line) => out(`      register │ ${line}`),
    );
    if (code !== 0) throw new Error(`the registration CLI exited ${code}`);
    const provider = mosaic.provider();
    if (provider.provider !== "CustomGateway" || provider.uri !== gatewayUri) throw new Error("the Mosaic emulator did not record the gateway");

    current = "send an OTP";
    step(5, `Mosaic sends an OTP to ${phone} (POST to the gateway, 3 s timeout, up to 2 retries)`);
    const sent = await mosaic.sendOtp({ phone_number: phone, app: "Sandbox" });
    out(`      gateway answered ${sent.status ?? sent.error} after ${sent.attempts} attempt(s): ${JSON.stringify(sent.response ?? null)}`);
    if (!sent.delivered) throw new Error(`the gateway did not accept the SMS (${sent.status ?? sent.error})`);

    if (telnyx) {
      current = "show every attempt";
      step(6, "Every attempt (the gateway's sms.send log line), and the SMS as the Telnyx emulator received it");
      const attempts = await loggedAttempts(() => sendLines.at(-1));
      attempts.forEach((a, i) =>
        out(`      attempt ${i + 1}: ${a.provider.padEnd(7)} ${a.outcome}${a.code ? ` (${a.code})` : ""}, ${a.latencyMs} ms`),
      );
      out(`      the Twilio emulator answered ${twilio.requests?.() ?? "?"} request(s), accepted ${twilio.messages().length}`);
      const summary = attempts.map((a) => `${a.provider}:${a.outcome}`).join(" ");
      if (summary !== "twilio:provider_rejected telnyx:sent") throw new Error(`unexpected attempts: ${summary}`);
      if (twilio.requests?.() !== 1 || twilio.messages().length !== 0) throw new Error("the Twilio emulator should have refused exactly one request");
      if ((sent.response as { provider?: unknown } | undefined)?.provider !== "telnyx") throw new Error("the answer does not name telnyx");
    } else if (scenario === "retry") {
      current = "show how the repeat was recognised";
      step(6, "Each POST Mosaic made (the gateway's sms.send lines), and what the Twilio emulator did");
      await within(() => sendLines.length >= sent.attempts, 2000, 20);
      sendLines.forEach((line, i) => {
        const attempts = Array.isArray(line.attempts) ? (line.attempts as LoggedAttempt[]) : [];
        const tried = attempts.map((a) => `${a.provider} ${a.outcome}${a.code ? ` (${a.code})` : ""}`).join(", ") || "no provider attempt";
        const via = typeof line.dedupe === "string" ? ` via ${line.dedupe}` : "";
        out(`      POST ${i + 1}: ${String(line.outcome)}${via} — ${tried}${line.providerMessageId ? `, id ${String(line.providerMessageId)}` : ""}`);
      });
      const requests = twilio.requests?.();
      const lookups = twilio.lookups?.();
      out(`      the Twilio emulator received ${requests} send request(s), answered ${lookups} look-up(s), sent ${twilio.messages().length} SMS`);
      const response = sent.response as { id?: unknown; deduplicated?: unknown } | undefined;
      const outcomes = sendLines.map((l) => `${String(l.outcome)}${l.dedupe ? `/${String(l.dedupe)}` : ""}`).join(" ");
      if (outcomes !== "outcome_unknown deduplicated/lookup") throw new Error(`unexpected outcomes: ${outcomes}`);
      if (requests !== 1 || twilio.messages().length !== 1) throw new Error("the Twilio emulator should have received and sent exactly one SMS");
      if (response?.deduplicated !== true || response.id !== twilio.messages()[0]?.id) {
        throw new Error("the retry's answer does not carry the first send's id with deduplicated: true");
      }
    } else {
      current = "read the SMS from the Twilio emulator";
      step(6, "The SMS as the Twilio emulator received it");
    }
    const delivered = (telnyx ?? twilio).messages();
    const sms = delivered.at(-1);
    if (delivered.length !== 1 || sms === undefined) throw new Error(`the emulator received ${delivered.length} messages, expected 1`);
    out(`      To:   ${sms.To}`);
    out(`      From: ${sms.From ?? sms.MessagingServiceSid ?? ""}`);
    // The sandbox's OTP is fake: showing the Body is the point here (the gateway itself never logs it).
    out(`      Body: ${sms.Body}`);
    if (sms.To !== phone || sms.Body !== sent.message) throw new Error("the SMS the emulator received differs from what Mosaic sent");

    current = "receive the delivery receipts";
    const sender = telnyx ?? twilio;
    step(7, `Delivery receipts: the ${telnyx ? "Telnyx" : "Twilio"} emulator calls ${front.url}/receipts/…, signed; the gateway verifies and logs each (sms.receipt)`);
    await sender.receiptsSettled?.();
    const id = (sent.response as { id?: unknown } | undefined)?.id;
    const receipts = typeof id === "string" ? await receiptsOf(receiptLines, id) : [];
    receipts.forEach((r) => out(`      receipt: ${formatReceipt(r)}`));
    if (!receipts.some((r) => r.status === "delivered" && typeof r.deliverySeconds === "number")) {
      throw new Error("the gateway logged no delivered receipt for the SMS");
    }
    out("\n✔ sandbox: OTP delivered end to end, and its delivery receipt verified");
    return { code: 0, sms, otp: sent.otp };
  } catch (error) {
    out(`\n✘ sandbox failed while trying to ${current}: ${error instanceof Error ? error.message : String(error)}`);
    return { code: 1 };
  } finally {
    const stopped = await gateway?.stop().catch(() => null);
    if (gateway) out(`      gateway stopped (exit ${stopped})`);
    await Promise.allSettled([mosaic?.close(), twilio?.close(), telnyx?.close(), front?.close()]);
    out("      emulators stopped");
  }
}
