import { randomBytes } from "node:crypto";
import { startMosaicEmulator, type MosaicEmulator } from "../emulators/mosaic.ts";
import { redact } from "../register/format.ts";
import { runRegisterCli, startGateway, type RunningGateway, type Runtime } from "./processes.ts";

/** An SMS as the Twilio emulator received it (the form fields of POST …/Messages.json). */
export interface ReceivedSms {
  readonly To: string;
  readonly From?: string;
  readonly MessagingServiceSid?: string;
  readonly Body: string;
}

export interface TwilioFake {
  readonly url: string;
  messages(): readonly ReceivedSms[];
  close(): Promise<void>;
}

export interface SandboxDeps {
  readonly out: (line: string) => void;
  readonly startTwilio: () => Promise<TwilioFake>;
  /** Show the gateway's own JSON log lines. Default true. */
  readonly showGatewayLogs?: boolean;
}

export interface SandboxOptions {
  readonly runtime: Runtime;
  /** Destination of the OTP. Default +14155550123 (a valid US number of the 555-01xx fictional range). */
  readonly phoneNumber?: string;
}

export interface SandboxResult {
  readonly code: 0 | 1;
  readonly sms?: ReceivedSms;
  readonly otp?: string;
}

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

/**
 * The whole flow offline: Twilio emulator, Mosaic emulator, the gateway as a child process, registration through
 * the real CLI, one OTP sent as Mosaic sends it, the SMS as Twilio received it; then everything stops.
 * Every credential is generated here and lives only for this run; none is printed.
 */
export async function runSandbox(options: SandboxOptions, deps: SandboxDeps): Promise<SandboxResult> {
  const secrets = {
    apiKey: hex(24),
    clientSecret: hex(24),
    twilioAuthToken: hex(16),
  };
  const accountSid = `AC${hex(16)}`;
  const from = "+15005550006"; // Twilio's documented magic "valid From" test number.
  const phone = options.phoneNumber ?? "+14155550123";
  const out = (line: string) => deps.out(redact(line, Object.values(secrets)));
  const step = (n: number, text: string) => out(`\n[${n}/6] ${text}`);

  let twilio: TwilioFake | undefined;
  let mosaic: MosaicEmulator | undefined;
  let gateway: RunningGateway | undefined;
  let current = "start";
  try {
    current = "start the Twilio emulator";
    step(1, "Twilio emulator");
    twilio = await deps.startTwilio();
    out(`      listening on ${twilio.url}`);

    current = "start the Mosaic emulator";
    step(2, "Mosaic emulator");
    mosaic = await startMosaicEmulator({ clientId: "sandbox-management-app", clientSecret: secrets.clientSecret, log: (l) => out(`      mosaic │ ${l}`) });
    out(`      listening on ${mosaic.url}`);

    current = `start the gateway (${options.runtime})`;
    step(3, `Gateway on ${options.runtime === "deno" ? "Deno" : "Node"} (SMS_PROVIDER=twilio → the Twilio emulator)`);
    gateway = await startGateway(
      options.runtime,
      {
        GATEWAY_API_KEY: secrets.apiKey,
        SMS_PROVIDER: "twilio",
        TWILIO_ACCOUNT_SID: accountSid,
        TWILIO_AUTH_TOKEN: secrets.twilioAuthToken,
        TWILIO_FROM_NUMBER: from,
        TWILIO_API_BASE_URL: twilio.url,
      },
      (entry, raw) => {
        if (deps.showGatewayLogs === false) return;
        out(`      gateway │ ${formatGatewayLog(entry, raw)}`);
      },
    );
    const gatewayUri = `http://127.0.0.1:${gateway.port}/send-sms`;
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

    current = "read the SMS from the Twilio emulator";
    step(6, "The SMS as the Twilio emulator received it");
    const messages = twilio.messages();
    const sms = messages.at(-1);
    if (messages.length !== 1 || sms === undefined) throw new Error(`the Twilio emulator received ${messages.length} messages, expected 1`);
    out(`      To:   ${sms.To}`);
    out(`      From: ${sms.From ?? sms.MessagingServiceSid ?? ""}`);
    // The sandbox's OTP is fake: showing the Body is the point here (the gateway itself never logs it).
    out(`      Body: ${sms.Body}`);
    if (sms.To !== phone || sms.Body !== sent.message) throw new Error("the SMS the Twilio emulator received differs from what Mosaic sent");
    out("\n✔ sandbox: OTP delivered end to end");
    return { code: 0, sms, otp: sent.otp };
  } catch (error) {
    out(`\n✘ sandbox failed while trying to ${current}: ${error instanceof Error ? error.message : String(error)}`);
    return { code: 1 };
  } finally {
    const stopped = await gateway?.stop().catch(() => null);
    if (gateway) out(`      gateway stopped (exit ${stopped})`);
    await Promise.allSettled([mosaic?.close(), twilio?.close()]);
    out("      emulators stopped");
  }
}
