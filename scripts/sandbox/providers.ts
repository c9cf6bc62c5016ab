import { startFakeTelnyx } from "../emulators/telnyx.ts";
import { startFakeTwilio } from "../emulators/twilio.ts";
import type { ProviderFake, ReceivedSms, TwilioBehaviour } from "./run.ts";

/**
 * The project's Twilio emulator on loopback, seen as the sandbox needs it: the SMS it sent (the Messages it
 * created, whatever became of the answer), how many send requests it answered and how many look-ups (Messages list
 * reads). `refuse`: every send is answered with that Twilio error (the failover scenario). `resetFirst`: the first
 * send is taken, then the connection is cut before the answer (the retry scenario).
 */
export async function startSandboxTwilio(behaviour: TwilioBehaviour = {}): Promise<ProviderFake> {
  const fake = await startFakeTwilio({ host: "127.0.0.1", port: 0 });
  if (behaviour.refuse) fake.always({ kind: "error", ...behaviour.refuse });
  if (behaviour.resetFirst) fake.enqueue({ kind: "reset" });
  return {
    url: fake.url,
    requests: () => fake.received.length,
    lookups: () => fake.lists.length,
    receiptsSettled: () => fake.callbacksSettled(),
    messages: (): ReceivedSms[] =>
      fake.created.map((m) => ({
        To: m.to ?? "",
        ...(m.from === null ? {} : { From: m.from }),
        ...(m.messagingServiceSid === null ? {} : { MessagingServiceSid: m.messagingServiceSid }),
        Body: m.body ?? "",
        id: m.sid,
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
    receiptsSettled: () => fake.webhooksSettled(),
    receiptPublicKey: fake.publicKey,
    messages: (): ReceivedSms[] =>
      fake.received
        .filter((m) => m.answeredWith === 200)
        .map((m) => ({ To: m.to ?? "", ...(m.from === null ? {} : { From: m.from }), Body: m.text ?? "" })),
    close: () => fake.close(),
  };
}
