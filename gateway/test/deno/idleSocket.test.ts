/**
 * The transport closes pooled connections idle for IDLE_SOCKET_MS before a provider does (transport.ts): Deno's
 * node:http polyfill must honour the agent's `timeout` as Node does, or the keep-alive race is back on Deno.
 */
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { createHttpTransport } from "../../src/providers/transport.ts";
import { assertEquals } from "./helpers.ts";

Deno.test("an idle pooled connection is closed by the client, and the next send opens a new one", async () => {
  const sockets: Socket[] = [];
  const server = http.createServer((_req, res) => res.end("{}"));
  server.keepAliveTimeout = 60_000; // the server would keep it a minute: a close before that is ours
  server.on("connection", (s: Socket) => sockets.push(s));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/x`);
  const transport = createHttpTransport({ maxSockets: 2, idleSocketMs: 50 });
  const limits = () => ({ signal: new AbortController().signal, startBy: Date.now() + 10_000 });
  try {
    assertEquals((await transport.send({ url, method: "POST", headers: {}, body: "a=1" }, limits())).status, 200, "first send");
    await new Promise<void>((r) => (sockets[0]!.destroyed ? r() : sockets[0]!.once("close", () => r())));
    assertEquals((await transport.send({ url, method: "POST", headers: {}, body: "a=2" }, limits())).status, 200, "send after the idle close");
    assertEquals(sockets.length, 2, "connections the server saw");
  } finally {
    transport.close();
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
  }
});
