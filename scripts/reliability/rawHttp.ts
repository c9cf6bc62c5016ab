import net from "node:net";

/** What came back on a raw connection: a parsed HTTP response, or how the connection ended without one. */
export type RawOutcome =
  | { kind: "response"; status: number; headers: Record<string, string>; body: string }
  | { kind: "closed" | "timeout" | "error"; detail: string };

export interface RawRequest {
  /** Written in order, `delayMs` apart (a slow body is several pieces). */
  pieces: (string | Buffer)[];
  delayMs: number;
}

/**
 * Sends bytes exactly as given (no header validation: malformed HTTP is the point) and reads one response.
 * Bounded: the connection is destroyed after `timeoutMs` whatever happens.
 */
export function sendRaw(port: number, request: RawRequest, timeoutMs: number): Promise<RawOutcome> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    let buffer = Buffer.alloc(0);
    let settled = false;
    const timers: NodeJS.Timeout[] = [];
    const done = (outcome: RawOutcome) => {
      if (settled) return;
      settled = true;
      for (const t of timers) clearTimeout(t);
      socket.destroy();
      resolve(outcome);
    };
    timers.push(setTimeout(() => done(tryParse(buffer, true) ?? { kind: "timeout", detail: `no response in ${timeoutMs} ms` }), timeoutMs));
    socket.on("connect", () => {
      request.pieces.forEach((piece, i) => {
        timers.push(
          setTimeout(() => {
            if (!socket.destroyed && socket.writable) socket.write(piece);
          }, i * request.delayMs),
        );
      });
    });
    socket.on("data", (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      const parsed = tryParse(buffer, false);
      if (parsed) done(parsed);
    });
    socket.on("end", () => done(tryParse(buffer, true) ?? { kind: "closed", detail: `closed after ${buffer.length} bytes` }));
    socket.on("error", (err) => done(tryParse(buffer, true) ?? { kind: "error", detail: err.message }));
  });
}

/** One HTTP/1.1 response from the head of `buf`, when complete (or when the peer closed: whatever arrived). */
function tryParse(buf: Buffer, ended: boolean): RawOutcome | undefined {
  const headEnd = buf.indexOf("\r\n\r\n");
  if (headEnd < 0) return undefined;
  const lines = buf.subarray(0, headEnd).toString("latin1").split("\r\n");
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? "")?.[1] ?? NaN);
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const body = buf.subarray(headEnd + 4);
  const length = headers["content-length"] === undefined ? undefined : Number(headers["content-length"]);
  if (length !== undefined && body.length >= length) {
    return { kind: "response", status, headers, body: body.subarray(0, length).toString("utf8") };
  }
  if (length === undefined && headers["transfer-encoding"] === undefined) {
    // No length: either a bodiless answer (HEAD, 204/304) or a body delimited by close.
    if (ended || body.length === 0) return { kind: "response", status, headers, body: body.toString("utf8") };
  }
  return ended ? { kind: "response", status, headers, body: body.toString("utf8") } : undefined;
}
