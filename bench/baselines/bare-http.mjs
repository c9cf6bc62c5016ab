// Baseline: a bare node:http server answering the gateway's GET challenge.
import http from "node:http";

const server = http
  .createServer((req, res) => {
    const body = JSON.stringify({ key: req.headers["x-verification-key"] });
    res.writeHead(200, { "Content-Type": "application/json; charset=utf-8", "Content-Length": Buffer.byteLength(body) });
    res.end(body);
  })
  .listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
    process.stdout.write(`${JSON.stringify({ message: "listening", port: server.address().port })}\n`);
  });
process.on("SIGTERM", () => process.exit(0));
