/**
 * The part of the official `twilio` SDK a send needs: its REST client core (`BaseTwilio.Client`: credentials,
 * user agent, edge/region hostnames, our httpClient) and the Api domain (2010-04-01, Messages). `twilio()` builds
 * these same two objects, but its module also reaches ~40 other product domains, TwiML, JWT and webhooks: bundled,
 * 5.5 MB to parse instead of 1.3 MB, ~35 ms more before the first send and ~7 MiB more resident memory
 * (measured on Node 20, bench/RESULTS.md). Loaded with a dynamic import, after the server listens.
 */
import BaseTwilio from "twilio/lib/base/BaseTwilio.js";
import Api from "twilio/lib/rest/Api.js";
import type { BoundTwilioHttpClient } from "./httpClient.ts";

export interface MessagesApi {
  /** Resolves to the parsed 2xx body; its `sid` is checked by the caller, never trusted. */
  create(params: Record<string, unknown>): Promise<{ sid?: unknown }>;
}

export type MessagesFactory = (
  username: string,
  password: string,
  opts: { accountSid: string; httpClient: BoundTwilioHttpClient; autoRetry: false },
) => MessagesApi;

export const createMessagesApi: MessagesFactory = (username, password, opts) => {
  // The SDK types httpClient as its own RequestClient class; it only ever calls request() (the documented contract).
  const client = new BaseTwilio.Client(username, password, opts as unknown as BaseTwilio.ClientOpts);
  // Api's constructor is typed for the full Twilio client; it only uses the Client part (request, region, edge).
  return new Api(client as never).account.messages as unknown as MessagesApi;
};
