import type { Destination } from "../phone.ts";

/** What a provider is asked to deliver. The body holds the OTP: providers must never log it. */
export interface OutgoingSms {
  to: Destination;
  body: string;
  /** Mosaic's sender_id, when it sent a non-empty one; the provider decides whether it may be used. */
  senderId: string | undefined;
}

export interface SendContext {
  /** Aborted when the gateway's answer deadline passes; the provider must stop waiting then. */
  signal: AbortSignal;
  /** Epoch milliseconds by which the gateway must answer; a provider retries only while time remains. */
  deadline: number;
}

export interface SendResult {
  id: string;
}

export interface SmsProvider {
  readonly name: string;
  send(sms: OutgoingSms, ctx: SendContext): Promise<SendResult>;
  /** Loads what the first send would otherwise wait for (the SDK); started right after listening. */
  warmUp?(): Promise<void>;
  /** Releases pooled connections on shutdown. */
  close?(): void;
}
