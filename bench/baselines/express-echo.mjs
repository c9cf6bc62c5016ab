// Baseline: a minimal Express 5 JSON echo on the gateway's POST path (body parsed, echoed back).
import http from "node:http";
import express from "express";

const app = express();
app.post("/send-sms", express.json({ limit: "16kb" }), (req, res) => {
  res.json(req.body);
});
const server = http.createServer(app).listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
  process.stdout.write(`${JSON.stringify({ message: "listening", port: server.address().port })}\n`);
});
process.on("SIGTERM", () => process.exit(0));
