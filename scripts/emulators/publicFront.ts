import http from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A stand-in for what providers reach on Cloud Run: Google's front end (or the load balancer) answers on the
 * public origin and forwards each request to the container, which sees another host and port. The gateway is
 * told the public origin (PUBLIC_BASE_URL) and must verify Twilio's signatures against it, not against the URL
 * it sees — so the sandbox and the tests point providers here, and the gateway behind it.
 *
 * It listens before the gateway starts (PUBLIC_BASE_URL must be known at startup, PORT=0 picks the port later):
 * `forwardTo` names the gateway once it listens; until then, and if the gateway is gone, it answers 502.
 */
export interface PublicFront {
  /** The public origin, e.g. http://127.0.0.1:41234: what PUBLIC_BASE_URL says. */
  url: string;
  forwardTo(origin: string): void;
  /** Requests forwarded so far (path with query), in order. */
  readonly forwarded: string[];
  close(): Promise<void>;
}

export async function startPublicFront(options: { host?: string } = {}): Promise<PublicFront> {
  let target: URL | undefined;
  const forwarded: string[] = [];
  const agent = new http.Agent({ keepAlive: true });

  const server = http.createServer((req, res) => {
    const badGateway = () => {
      if (res.headersSent) res.destroy();
      else res.writeHead(502, { "Content-Type": "text/plain" }).end("no gateway behind the front\n");
    };
    if (target === undefined) {
      req.resume();
      return badGateway();
    }
    forwarded.push(req.url ?? "/");
    const upstream = http.request(
      // The gateway sees its own host, as a container does: only PUBLIC_BASE_URL can tell it the public one.
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host }, agent },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on("error", badGateway);
    req.pipe(upstream);
  });

  await new Promise<void>((resolve) => server.listen(0, options.host ?? "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    forwardTo(origin) {
      target = new URL(origin);
    },
    forwarded,
    close() {
      agent.destroy();
      server.closeAllConnections?.();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
