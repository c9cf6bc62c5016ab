import { startFakeTwilio } from "../emulators/twilio.ts";
import type { ReceivedSms, TwilioFake } from "./run.ts";

/** The project's Twilio emulator on loopback, seen as the sandbox needs it: the SMS it accepted. */
export async function startSandboxTwilio(): Promise<TwilioFake> {
  const fake = await startFakeTwilio({ host: "127.0.0.1", port: 0 });
  return {
    url: fake.url,
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
