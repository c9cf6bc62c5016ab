/**
 * The fake Twilio (scripts/emulators/twilio.ts) in its own process, so the bench's load generator and the fake do
 * not share an event loop. Prints one JSON line `{"message":"listening","port","statsPort"}`; GET /stats on
 * statsPort answers `{"received","connections","peakConnections"}`; POST /reset clears the counters' record of sends.
 *   tsx bench/fakeTwilioProcess.ts [latencyMs]
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { startFakeTwilio } from "../scripts/emulators/twilio.ts";

const latencyMs = Number(process.argv[2] ?? 0);
const fake = await startFakeTwilio({ latencyMs });
const stats = http.createServer((req, res) => {
  if (req.method === "POST" && req.url === "/reset") fake.reset();
  res.writeHead(200, { "Content-Type": "application/json" });
  res.end(JSON.stringify({ received: fake.received.length, connections: fake.connections, peakConnections: fake.peakConnections }));
});
await new Promise<void>((resolve) => stats.listen(0, "127.0.0.1", resolve));
process.stdout.write(
  `${JSON.stringify({ message: "listening", port: fake.port, statsPort: (stats.address() as AddressInfo).port })}\n`,
);
process.on("SIGTERM", () => {
  stats.close();
  void fake.close().finally(() => process.exit(0));
});
