/**
 * The part of the official `twilio` SDK a send needs: its REST client core (`BaseTwilio.Client`: credentials,
 * user agent, edge/region hostnames, our httpClient) and the Api domain (2010-04-01, Messages). `twilio()` builds
 * these same two objects, but its module also reaches ~40 other product domains, TwiML, JWT and webhooks: bundled,
 * 5.5 MB to parse instead of 1.3 MB, ~35 ms more before the first send and ~7 MiB more resident memory
 * (measured on Node 20, bench/RESULTS.md). Loaded with a dynamic import, after the server listens.
 */
import BaseTwilio from "twilio/lib/base/BaseTwilio.js";
import Api from "twilio/lib/rest/Api.js";
import type { TwilioHttpClient } from "./httpClient.ts";

export interface MessagesApi {
  /** Resolves to the parsed 2xx body; its `sid` is checked by the caller, never trusted. */
  create(params: Record<string, unknown>): Promise<{ sid?: unknown }>;
  /**
   * One page of the Messages list (`GET …/Messages.json`), read-only. `dateSentAfter` is sent as given: a
   * `YYYY-MM-DD` string becomes `DateSent>=YYYY-MM-DD`, Twilio's documented form (a Date would be sent as a
   * full timestamp, which the docs do not define).
   */
  page(params: { to: string; dateSentAfter?: string; pageSize: number }): Promise<MessagePage>;
}

/** The SDK's MessagePage, as far as the look-up reads it; its fields are untrusted until checked. */
export interface MessagePage {
  instances: ListedMessage[];
  nextPageUrl?: string;
  /** undefined when there is no next page. */
  nextPage(): Promise<MessagePage> | undefined;
}

export interface ListedMessage {
  sid?: unknown;
  to?: unknown;
  body?: unknown;
  direction?: unknown;
  /** The SDK deserialises Twilio's RFC 2822 `date_created` into a Date (an invalid one when absent). */
  dateCreated?: unknown;
}

export type MessagesFactory = (
  username: string,
  password: string,
  opts: { accountSid: string; httpClient: TwilioHttpClient; autoRetry: false },
) => MessagesApi;

export const createMessagesApi: MessagesFactory = (username, password, opts) => {
  // The SDK types httpClient as its own RequestClient class; it only ever calls request() (the documented contract).
  const client = new BaseTwilio.Client(username, password, opts as unknown as BaseTwilio.ClientOpts);
  // Api's constructor is typed for the full Twilio client; it only uses the Client part (request, region, edge).
  // `page` passes dateSentAfter through serialize.iso8601DateTime, which leaves a string as it is.
  return new Api(client as never).account.messages as unknown as MessagesApi;
};
