import net, { type AddressInfo } from "node:net";

/**
 * A loopback port free at this moment: bound on 127.0.0.1, then released. Nothing listens there until someone binds
 * it, so it serves both as a port to start a server on and as one that refuses connections.
 */
export async function freeLoopbackPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const port = (server.address() as AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
