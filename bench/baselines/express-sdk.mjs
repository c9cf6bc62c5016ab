// Same-work baseline: the minimal Express 5 sender a user would write with the official `twilio` SDK — the client
// built once, with a minimal `httpClient` (the SDK's documented option) that sends to the fake Twilio over the
// keep-alive pool post.mjs shares with the other baselines.
import { Buffer } from "node:buffer";
import twilio from "twilio";
import { config } from "./env.mjs";
import { startExpressSender } from "./express-sender.mjs";
import { request } from "./post.mjs";

// What the SDK hands its httpClient: {method, uri (https://api.twilio.com/...), username, password, headers,
// params, data}; it reads back {statusCode, body, headers} (twilio/lib/base/BaseTwilio.js, RequestClient.d.ts).
const httpClient = {
  request(opts) {
    const uri = new URL(opts.uri);
    const body = opts.data ? new URLSearchParams(opts.data).toString() : undefined;
    const headers = {
      ...opts.headers,
      Authorization: `Basic ${Buffer.from(`${opts.username}:${opts.password}`).toString("base64")}`,
      ...(body === undefined ? {} : { "Content-Length": Buffer.byteLength(body) }),
    };
    return request(opts.method.toUpperCase(), uri.pathname + uri.search, headers, body);
  },
};
const client = twilio(config.accountSid, config.authToken, { httpClient });

startExpressSender(async (to, body) => (await client.messages.create({ to, from: config.from, body })).sid);
