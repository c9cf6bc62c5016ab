// Same-work baseline, Node's floor: bare node:http in, hand-written http.request out, no framework, no SDK.
import { Buffer } from "node:buffer";
import http from "node:http";
import { config, listening } from "./env.mjs";
import { sendSms } from "./post.mjs";

function answer(res, status, body) {
  const json = JSON.stringify(body);
  res.writeHead(status, { "Content-Type": "application/json; charset=utf-8", "Content-Length": Buffer.byteLength(json) });
  res.end(json);
}

const server = http.createServer((req, res) => {
  if (req.method !== "POST" || req.url !== "/send-sms") return answer(res, 404, { error: "not_found" });
  if (req.headers["x-api-key"] !== config.apiKey) return answer(res, 401, { error: "unauthorized" });
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", async () => {
    let sms;
    try {
      sms = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    } catch {
      return answer(res, 400, { error: "invalid_request" });
    }
    try {
      answer(res, 200, { status: "sent", provider: "twilio", id: await sendSms(sms.phone_number, sms.message) });
    } catch {
      answer(res, 502, { error: "provider_error" });
    }
  });
});
server.listen(config.port, "127.0.0.1", () => listening(server.address().port));
