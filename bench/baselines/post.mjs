// The one hand-written provider call the Node-side baselines share: a form-encoded POST over a keep-alive pool
// bounded like the gateway's, the answer read whole. No deadline, no size limit, no retry: a minimal sender.
import { Buffer } from "node:buffer";
import http from "node:http";
import { config, messagesPath } from "./env.mjs";

const agent = new http.Agent({ keepAlive: true, maxSockets: config.concurrency, maxFreeSockets: config.concurrency });

/** @returns {Promise<{ statusCode: number, headers: http.IncomingHttpHeaders, body: string }>} */
export function request(method, path, headers, body) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: config.twilioBase.hostname, port: config.twilioBase.port, method, path, headers, agent },
      (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => resolve({ statusCode: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

export const basicAuth = `Basic ${Buffer.from(`${config.accountSid}:${config.authToken}`).toString("base64")}`;

/** Twilio's Messages create, by hand: resolves to the message SID, rejects on anything but a 201. */
export async function sendSms(to, body) {
  const form = new URLSearchParams({ To: to, From: config.from, Body: body }).toString();
  const res = await request(
    "POST",
    messagesPath,
    { Authorization: basicAuth, "Content-Type": "application/x-www-form-urlencoded", "Content-Length": Buffer.byteLength(form) },
    form,
  );
  if (res.statusCode !== 201) throw new Error(`Twilio answered ${res.statusCode}`);
  return JSON.parse(res.body).sid;
}
