import { GatewayError } from "./errors.ts";
import { parseE164, type Destination } from "./phone.ts";

/** Twilio's Body limit; Mosaic's own OTP templates are far shorter (≤ 140). */
export const MAX_MESSAGE_LENGTH = 1600;
/** Mosaic limits sender_id to 11 characters (the alphanumeric sender-ID limit). */
export const MAX_SENDER_ID_LENGTH = 11;

export interface SmsRequest {
  destination: Destination;
  /** Trimmed; undefined when Mosaic sent none or an empty one. */
  senderId: string | undefined;
  message: string;
}

function invalid(message: string): GatewayError {
  return new GatewayError("invalid_request", message);
}

/**
 * Mosaic's POST body: `{phone_number, sender_id, message}`. Unknown fields are ignored (Mosaic may add some);
 * the error message names the field and never repeats its value (it may hold the OTP).
 */
export function parseSmsRequest(body: unknown): SmsRequest {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw invalid("body must be a JSON object with phone_number, sender_id and message");
  }
  const { phone_number: phone, sender_id: sender, message } = body as Record<string, unknown>;

  if (typeof phone !== "string" || phone === "") throw invalid("phone_number is required and must be a string");
  const destination = parseE164(phone);
  if (!destination) throw invalid("phone_number must be a valid E.164 number, e.g. +14155552671");

  if (typeof message !== "string" || message.trim() === "") {
    throw invalid("message is required and must be a non-empty string");
  }
  if (message.length > MAX_MESSAGE_LENGTH) {
    throw invalid(`message must be at most ${MAX_MESSAGE_LENGTH} characters`);
  }

  if (sender !== undefined && sender !== null && typeof sender !== "string") {
    throw invalid("sender_id must be a string when present");
  }
  const senderId = typeof sender === "string" ? sender.trim() : "";
  if (senderId.length > MAX_SENDER_ID_LENGTH) {
    throw invalid(`sender_id must be at most ${MAX_SENDER_ID_LENGTH} characters`);
  }

  return { destination, senderId: senderId === "" ? undefined : senderId, message };
}
