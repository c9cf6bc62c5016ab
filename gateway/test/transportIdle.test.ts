import http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createHttpTransport, IDLE_SOCKET_MS } from "../src/providers/transport.ts";

/**
 * Idle pooled connections are closed by the gateway before the provider closes them (transport.ts IDLE_SOCKET_MS):
 * a send written onto a connection the server is closing is an unknown outcome for an SMS never processed.
 */

const servers: http.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** A provider that keeps idle connections a minute: any close before that is the client's. */
async function patientServer() {
  const sockets: Socket[] = [];
  const server = http.createServer((_req, res) => res.end("{}"));
  server.keepAliveTimeout = 60_000;
  server.on("connection", (s: Socket) => sockets.push(s));
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/x`);
  return { url, sockets, closed: (s: Socket) => new Promise<void>((r) => (s.destroyed ? r() : s.once("close", () => r()))) };
}

const limits = () => ({ signal: new AbortController().signal, startBy: Date.now() + 10_000 });

describe("HTTP transport: idle pooled connections", () => {
  it("closes a connection left idle for idleSocketMs, and the next send opens a new one", async () => {
    const server = await patientServer();
    const transport = createHttpTransport({ maxSockets: 4, idleSocketMs: 50 });
    try {
      const idleSince = Date.now();
      expect((await transport.send({ url: server.url, method: "POST", headers: {}, body: "a=1" }, limits())).status).toBe(200);
      await server.closed(server.sockets[0]!); // closed by us: the server would have kept it 60 s
      expect(Date.now() - idleSince).toBeLessThan(10_000);
      expect((await transport.send({ url: server.url, method: "POST", headers: {}, body: "a=2" }, limits())).status).toBe(200);
      expect(server.sockets).toHaveLength(2);
    } finally {
      transport.close();
    }
  });

  it("still reuses a connection that is not idle that long", async () => {
    const server = await patientServer();
    const transport = createHttpTransport({ maxSockets: 4, idleSocketMs: 10_000 });
    try {
      for (const body of ["a=1", "a=2", "a=3"]) {
        expect((await transport.send({ url: server.url, method: "POST", headers: {}, body }, limits())).status).toBe(200);
      }
      expect(server.sockets).toHaveLength(1);
      expect(server.sockets[0]!.destroyed).toBe(false);
    } finally {
      transport.close();
    }
  });

  it("closes before Node's default server keep-alive (5 s) would", () => {
    expect(IDLE_SOCKET_MS).toBeLessThan(http.createServer().keepAliveTimeout);
  });
});
