// Same-work baseline, Deno's floor: Deno.serve in, fetch out (Deno's own keep-alive pool), no framework, no SDK.
import { Buffer } from "node:buffer";
import { config, listening, messagesPath } from "./env.mjs";

const messagesUrl = new URL(messagesPath, config.twilioBase);
const authorization = `Basic ${Buffer.from(`${config.accountSid}:${config.authToken}`).toString("base64")}`;

Deno.serve({ hostname: "127.0.0.1", port: config.port, onListen: ({ port }) => listening(port) }, async (req) => {
  const url = new URL(req.url);
  if (req.method !== "POST" || url.pathname !== "/send-sms") return Response.json({ error: "not_found" }, { status: 404 });
  if (req.headers.get("x-api-key") !== config.apiKey) return Response.json({ error: "unauthorized" }, { status: 401 });
  let sms;
  try {
    sms = await req.json();
  } catch {
    return Response.json({ error: "invalid_request" }, { status: 400 });
  }
  const sent = await fetch(messagesUrl, {
    method: "POST",
    headers: { Authorization: authorization, "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ To: sms.phone_number, From: config.from, Body: sms.message }),
  });
  const reply = await sent.json();
  if (sent.status !== 201) return Response.json({ error: "provider_error" }, { status: 502 });
  return Response.json({ status: "sent", provider: "twilio", id: reply.sid });
});
