import { createHash, timingSafeEqual } from "node:crypto";
import { MESSAGE_SID } from "./classify.ts";
import type { ListedMessage } from "./sdk.ts";

/**
 * The pure half of Twilio's look-up: which Messages list to read, and which listed message is ours. An earlier send
 * ended "unknown" (a reset after the request, a 500, a 201 after the deadline); before sending again, the gateway
 * reads the account's Messages sent to the number and looks for this exact text.
 *
 * What the list filters mean (Twilio's OpenAPI spec twilio_api_v2010.json, `ListMessage`; the Message resource
 * docs): `To` is an exact recipient match; `DateSent` filters on the message's `date_sent` and takes a **date** in
 * GMT, `YYYY-MM-DD`, with `DateSent<` and `DateSent>` for "on or before" / "on or after midnight" of that date.
 * The maintainers answer to use only that format (twilio/twilio-oai#21); a date with an operator in the value
 * itself is refused with 20001 "Invalid date value" (twilio/twilio-cli#99). So the filter narrows to a day, and
 * the minutes are checked here on `date_created`. Pages hold up to 1000 (`PageSize`, default 50) and link the
 * next one with `next_page_uri`.
 *
 * `date_sent` is null until Twilio hands the message to the carrier (the spec: "when Twilio sent the message"),
 * so a message still queued at Twilio is outside any `DateSent` filter. The look-up therefore reads a second,
 * unfiltered page of the newest messages to the number before it says "absent". Users have also reported the
 * list lagging behind recent sends (twilio/twilio-java#442, twilio/twilio-node#647): "absent" is the best the
 * API can say, not a proof — the gateway then sends again, as it would have without a look-up.
 */

/** Twilio's clock against ours, and a send's own duration: a listed message this much older still counts. */
export const CLOCK_SKEW_MS = 5 * 60_000;
/** Messages to one number in a day: an OTP number sees a handful; 50 is Twilio's default page. */
export const PAGE_SIZE = 50;
/** Pages read before the look-up gives up ("cannot_tell"): a number with this much traffic is not an OTP user's. */
export const MAX_PAGES = 3;
/** The newest messages to the number, unfiltered: where a message still queued (no `date_sent`) shows up. */
export const RECENT_PAGE_SIZE = 20;

/** `DateSent>` = on or after midnight GMT of this date: the day of the earliest moment the send could have been. */
export function dateSentAfter(since: number): string {
  return new Date(since - CLOCK_SKEW_MS).toISOString().slice(0, 10);
}

const sha256 = (text: string) => createHash("sha256").update(text, "utf8").digest();

/**
 * The sid of the listed message that is this SMS — same recipient, outbound, created since `since` (less the
 * skew), same text — or undefined. The text is compared by its SHA-256 in constant time: the list's bodies are
 * other users' OTPs, and nothing of them is kept or logged.
 */
export function findSent(messages: readonly ListedMessage[], to: string, text: string, since: number): string | undefined {
  const wanted = sha256(text);
  const earliest = since - CLOCK_SKEW_MS;
  for (const m of messages) {
    if (m.to !== to || typeof m.body !== "string" || typeof m.sid !== "string" || !MESSAGE_SID.test(m.sid)) continue;
    if (typeof m.direction !== "string" || !m.direction.startsWith("outbound")) continue;
    const created = m.dateCreated instanceof Date ? m.dateCreated.getTime() : NaN;
    // An unparseable date_created cannot be placed in time: it counts as recent rather than be ignored.
    if (created < earliest) continue;
    if (timingSafeEqual(sha256(m.body), wanted)) return m.sid;
  }
  return undefined;
}
