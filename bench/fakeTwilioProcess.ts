/**
 * Fake Twilios (scripts/emulators/twilio.ts) in a process of their own, so the bench's load generator and the fakes
 * do not share an event loop. One fake per subject: each counts the connections of one subject's pool, and the
 * bench loads one subject at a time, so they never compete with each other for this process.
 *   tsx bench/fakeTwilioProcess.ts [count=1] [latencyMs=0]
 * Prints one JSON line `{"message":"listening","port","ports":[…],"controlPort"}`. On controlPort:
 * GET /stats/<i> → `{"received","connections","peakConnections"}`; POST /reset/<i> forgets the sends it recorded
 * (a long run would otherwise keep them all); POST /latency/<i>/<ms> changes the delay before each answer.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { startFakeTwilio, type FakeTwilio } from "../scripts/emulators/twilio.ts";

const count = Number(process.argv[2] ?? 1);
const latencyMs = Number(process.argv[3] ?? 0);
const fakes: FakeTwilio[] = [];
// No status callbacks: a send's cost is measured, not the receipts' (gateway-receipts only names a StatusCallback).
for (let i = 0; i < count; i++) fakes.push(await startFakeTwilio({ latencyMs, statusCallbacks: false }));

const ROUTE = /^\/(stats|reset|latency)\/(\d+)(?:\/(\d+))?$/;
const control = http.createServer((req, res) => {
  const match = ROUTE.exec(req.url ?? "");
  const fake = match ? fakes[Number(match[2])] : undefined;
  if (!match || !fake) {
    res.writeHead(404).end();
    return;
  }
  if (req.method === "POST" && match[1] === "reset") fake.reset();
  if (req.method === "POST" && match[1] === "latency") fake.setLatency(Number(match[3] ?? 0));
  res.writeHead(200, { "Content-Type": "application/json" });
  res.end(JSON.stringify({ received: fake.received.length, connections: fake.connections, peakConnections: fake.peakConnections }));
});
await new Promise<void>((resolve) => control.listen(0, "127.0.0.1", resolve));
process.stdout.write(
  `${JSON.stringify({
    message: "listening",
    port: fakes[0]!.port,
    ports: fakes.map((f) => f.port),
    controlPort: (control.address() as AddressInfo).port,
  })}\n`,
);
process.on("SIGTERM", () => {
  control.close();
  void Promise.all(fakes.map((f) => f.close())).finally(() => process.exit(0));
});
