import { startFakeTelnyx } from "../emulators/telnyx.ts";
import { startFakeTwilio } from "../emulators/twilio.ts";
import type { ProviderFake, ReceivedSms } from "./run.ts";

/**
 * The project's Twilio emulator on loopback, seen as the sandbox needs it: the SMS it accepted and how many
 * requests it answered. With `refuse`, it answers every send with that Twilio error (the failover scenario).
 */
export async function startSandboxTwilio(refuse?: { status: number; code: number }): Promise<ProviderFake> {
  const fake = await startFakeTwilio({ host: "127.0.0.1", port: 0 });
  if (refuse) fake.always({ kind: "error", ...refuse });
  return {
    url: fake.url,
    requests: () => fake.received.length,
    messages: (): ReceivedSms[] =>
      fake.received
        .filter((m) => m.answeredWith === 201)
        .map((m) => ({
          To: m.to ?? "",
          ...(m.from === null ? {} : { From: m.from }),
          ...(m.messagingServiceSid === null ? {} : { MessagingServiceSid: m.messagingServiceSid }),
          Body: m.body ?? "",
        })),
    close: () => fake.close(),
  };
}

/** The Telnyx emulator, seen the same way (the failover scenario's second provider). */
export async function startSandboxTelnyx(apiKey: string): Promise<ProviderFake> {
  const fake = await startFakeTelnyx({ host: "127.0.0.1", port: 0, apiKey });
  return {
    url: fake.url,
    requests: () => fake.received.length,
    messages: (): ReceivedSms[] =>
      fake.received
        .filter((m) => m.answeredWith === 200)
        .map((m) => ({ To: m.to ?? "", ...(m.from === null ? {} : { From: m.from }), Body: m.text ?? "" })),
    close: () => fake.close(),
  };
}
