import { GatewayError } from "./errors.ts";
import { parseE164, type Destination } from "./phone.ts";

/** Twilio's Body limit; Mosaic's own OTP templates are far shorter (≤ 140). */
export const MAX_MESSAGE_LENGTH = 1600;

/** C0 and C1 control characters other than tab, line feed and carriage return: NUL, ESC… never belong in an SMS. */
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/;
/** A UTF-16 surrogate without its pair (JSON can carry one as "\ud800"): not text any provider can encode. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** One character a reader can see: not whitespace, not an invisible format character (zero-width space, ZWJ, BOM…). */
const VISIBLE = /[^\p{White_Space}\p{Cf}]/u;

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
  if (LONE_SURROGATE.test(message)) throw invalid("message must be valid Unicode text");
  if (CONTROL.test(message)) throw invalid("message must not contain control characters other than tab and line breaks");
  if (!VISIBLE.test(message)) throw invalid("message must contain visible text, not only spaces or zero-width characters");

  // sender_id only ever picks the sender, and only where it is a valid alphanumeric sender ID that the operator
  // opted into and the destination accepts (providers/twilio/sender.ts); otherwise the configured sender is used.
  // So an OTP is never refused for it: its length and characters are not checked here (issue 8, item 16).
  if (sender !== undefined && sender !== null && typeof sender !== "string") {
    throw invalid("sender_id must be a string when present");
  }
  const senderId = typeof sender === "string" ? sender.trim() : "";

  return { destination, senderId: senderId === "" ? undefined : senderId, message };
}
