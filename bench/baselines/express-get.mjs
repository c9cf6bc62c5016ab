// Baseline: a minimal Express 5 app answering the gateway's GET challenge (no auth, no config, no provider).
import http from "node:http";
import express from "express";

const app = express();
app.get("/send-sms", (req, res) => {
  res.json({ key: req.get("X-Verification-Key") });
});
const server = http.createServer(app).listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
  process.stdout.write(`${JSON.stringify({ message: "listening", port: server.address().port })}\n`);
});
process.on("SIGTERM", () => process.exit(0));
