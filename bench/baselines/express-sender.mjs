// The minimal Express 5 sender both Express baselines share, so they differ only in how they call the provider:
// key check, JSON body (16 KiB limit, as the gateway's), one send, JSON answer.
import http from "node:http";
import express from "express";
import { config, listening } from "./env.mjs";

/** @param {(to: string, body: string) => Promise<string>} send resolves to the provider's message id */
export function startExpressSender(send) {
  const app = express();
  app.post("/send-sms", express.json({ limit: "16kb" }), async (req, res) => {
    if (req.get("X-API-Key") !== config.apiKey) return res.status(401).json({ error: "unauthorized" });
    const { phone_number: to, message } = req.body ?? {};
    if (typeof to !== "string" || typeof message !== "string") return res.status(400).json({ error: "invalid_request" });
    try {
      res.json({ status: "sent", provider: "twilio", id: await send(to, message) });
    } catch {
      res.status(502).json({ error: "provider_error" });
    }
  });
  const server = http.createServer(app).listen(config.port, "127.0.0.1", () => listening(server.address().port));
}
