import http from "node:http";
import type { AddressInfo } from "node:net";

export interface StubGatewayOptions {
  readonly apiKey: string;
  /** "right" echoes X-Verification-Key; "wrong" echoes something else. Default "right". */
  readonly echo?: "right" | "wrong";
  /** Accept any X-API-Key on the challenge (a broken gateway). Default false. */
  readonly acceptAnyKey?: boolean;
  /** Status codes to answer POSTs with, in order; then 200. */
  readonly postStatuses?: number[];
  /** Delay before answering POSTs, per attempt, in order. */
  readonly postDelaysMs?: number[];
}

export interface StubRequest {
  readonly method: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

/** A tiny gateway implementing the GET challenge and a recording POST, for tests that must not need the real one. */
export async function startStubGateway(options: StubGatewayOptions) {
  const requests: StubRequest[] = [];
  const postStatuses = [...(options.postStatuses ?? [])];
  const postDelays = [...(options.postDelaysMs ?? [])];
  let echo = options.echo ?? "right";
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      requests.push({ method: req.method ?? "", headers: req.headers, body });
      const keyOk = options.acceptAnyKey || req.headers["x-api-key"] === options.apiKey;
      if (req.method === "GET") {
        if (!keyOk) return void res.writeHead(401).end();
        const v = req.headers["x-verification-key"];
        if (typeof v !== "string") return void res.writeHead(400).end();
        const key = echo === "wrong" ? `${v}-not` : v;
        return void res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ key }));
      }
      if (!keyOk) return void res.writeHead(401).end();
      const status = postStatuses.shift() ?? 200;
      const delay = postDelays.shift() ?? 0;
      setTimeout(() => {
        if (res.destroyed) return;
        res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify({ status: "sent", provider: "stub", id: `SM${requests.length}` }));
      }, delay);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const { port } = server.address() as AddressInfo;
  return {
    uri: `http://127.0.0.1:${port}/send-sms`,
    requests,
    /** Changes how later challenges are answered. */
    setEcho: (mode: "right" | "wrong") => {
      echo = mode;
    },
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}
