/**
 * Deno's node:http re-sends a request whose reused keep-alive socket closes before the answer (deno#31932): for a
 * POST to an SMS API, a second OTP. The transport (gateway/src/providers/transport.ts) has two guards: Deno's
 * private `_retrying` flag, and refusing a second 'socket' for one request (public API). This forces the race
 * RACES times per configuration and counts what the server received: each guard alone must hold, and with both
 * off the race must really double-send (otherwise this test proves nothing). It also fails when run on a Deno
 * the guard was not verified on (issue 8, item 19): re-run it there, then add the version to runtime.ts.
 */
import net from "node:net";
import { createHttpTransport, type HttpTransportOptions } from "../../src/providers/transport.ts";
import { DENO_VERIFIED_VERSIONS } from "../../src/runtime.ts";
import { assertEquals } from "./helpers.ts";

const RACES = 60;

/**
 * A server that answers the first request on a connection with a 201 and keep-alive, and closes the connection
 * without answering the second one, once it has read it whole: the client's reused socket closes before the
 * answer, the exact condition of Deno's re-send. A request on a connection of its own (a re-send) gets a 201.
 */
async function racingServer() {
  let received = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    let buffer = "";
    let onThisConnection = 0;
    socket.on("data", (chunk: Buffer) => {
      buffer += chunk.toString("latin1");
      for (;;) {
        const head = buffer.indexOf("\r\n\r\n");
        if (head < 0) return;
        const length = Number(/\r\ncontent-length: *(\d+)/i.exec(buffer.slice(0, head))?.[1] ?? 0);
        if (buffer.length < head + 4 + length) return;
        buffer = buffer.slice(head + 4 + length);
        received++;
        onThisConnection++;
        if (onThisConnection === 2) {
          socket.destroy();
          return;
        }
        socket.write("HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\n{}");
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    received: () => received,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** One race: a send that leaves a kept-alive connection, then a send on it that the server cuts off. */
async function race(guards: Pick<HttpTransportOptions, "denoRetryFlag" | "secondSocketGuard">): Promise<number> {
  const server = await racingServer();
  const transport = createHttpTransport({ maxSockets: 1, ...guards });
  const send = () =>
    transport.send(
      {
        url: new URL(`http://127.0.0.1:${server.port}/2010-04-01/Accounts/AC0/Messages.json`),
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: "To=%2B14155552671&Body=Your+code+is+123456",
      },
      { signal: AbortSignal.timeout(5000), startBy: Date.now() + 5000 },
    );
  try {
    await send();
    const before = server.received();
    await send().catch(() => undefined); // the cut-off send fails, or (re-sent) succeeds
    // A re-send is written right after the close (Deno re-adds the request to its agent at once).
    await new Promise((resolve) => setTimeout(resolve, 50));
    return server.received() - before;
  } finally {
    transport.close();
    await server.close();
  }
}

async function doubles(guards: Pick<HttpTransportOptions, "denoRetryFlag" | "secondSocketGuard">): Promise<number> {
  let count = 0;
  for (let i = 0; i < RACES; i++) if ((await race(guards)) > 1) count++;
  return count;
}

Deno.test(`this Deno (${Deno.version.deno}) is one the re-send guard was verified on`, () => {
  if (!DENO_VERIFIED_VERSIONS.includes(Deno.version.deno)) {
    throw new Error(
      `Deno ${Deno.version.deno} is not in DENO_VERIFIED_VERSIONS (${DENO_VERIFIED_VERSIONS.join(", ")}): if the race tests ` +
        "below pass on it, add it to gateway/src/runtime.ts, and pin it in package.json and gateway/Dockerfile.deno",
    );
  }
});

Deno.test(`keep-alive races (${RACES} each): no double send with either guard, and the race is real without them`, async () => {
  const figures = {
    both: await doubles({}),
    flagOnly: await doubles({ secondSocketGuard: false }),
    socketGuardOnly: await doubles({ denoRetryFlag: false }),
    none: await doubles({ denoRetryFlag: false, secondSocketGuard: false }),
  };
  console.log(`[resend] double sends in ${RACES} races: ${JSON.stringify(figures)}`);
  assertEquals({ both: figures.both, flagOnly: figures.flagOnly, socketGuardOnly: figures.socketGuardOnly }, { both: 0, flagOnly: 0, socketGuardOnly: 0 }, "double sends with a guard on");
  if (figures.none === 0) throw new Error("with both guards off no race double-sent: the test no longer forces Deno's re-send");
});
