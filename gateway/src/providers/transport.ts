import http from "node:http";
import https from "node:https";
import type { HttpAnswer } from "./answer.ts";
import { NOT_STARTED, type SendOutcome } from "./provider.ts";

/**
 * The one HTTP transport every provider sends through (Twilio's SDK via its `httpClient` option, SMC and Telnyx
 * directly), with the care a send needs on Node and on Deno alike:
 * - a keep-alive pool per instance, sized to the gateway's concurrency, for http and https;
 * - nothing written until a connected socket is in hand and there is still time (`startBy`): the time spent
 *   waiting for a pooled connection or connecting counts, and the caller learns whether the request was written
 *   (before: certainly not sent; after: the provider may have it);
 * - the gateway's deadline as an AbortSignal; a response size cap; redirects never followed (node:http does not
 *   follow them: a 3xx comes back as an answer and the credentials stay with the configured host);
 * - never a second send of one request (Deno's node:http re-sends on a reused keep-alive socket that closes
 *   early: see below).
 */

export interface HttpRequestSpec {
  url: URL;
  method: "GET" | "POST";
  headers: Record<string, string>;
  body?: string;
}

export interface AttemptLimits {
  /** Aborted at the gateway's deadline: the request is destroyed, whatever state it is in. */
  signal: AbortSignal;
  /** Epoch ms after which the request must not be written (it could not finish in time). */
  startBy: number;
}

export interface HttpTransport {
  /** One request. `onWritten` runs when it is handed to a connected socket: from then on it may have arrived. */
  send(spec: HttpRequestSpec, limits: AttemptLimits, onWritten?: () => void): Promise<HttpAnswer>;
  close(): void;
}

/** The connection came too late to finish before the deadline: the request was not written. */
export class AttemptNotStartedError extends Error {
  override readonly name = "AttemptNotStartedError";
}

/**
 * The runtime handed an already-written request a second socket: it was about to send it again (Deno's
 * node:http retries a request whose reused keep-alive socket closed before the answer). Destroyed before a byte
 * went out on the new socket.
 */
export class ResendRefusedError extends Error {
  override readonly name = "ResendRefusedError";
}

export class ResponseTooLargeError extends Error {
  override readonly name = "ResponseTooLargeError";
}

/** Provider answers are small JSON documents; anything larger is not the provider's API. */
export const MAX_RESPONSE_BYTES = 1024 * 1024;

/**
 * A pooled connection idle this long is closed by us. A server closes idle keep-alive connections on its own
 * clock (Node's default: 5 s); a request written onto one just as the server closes it is lost after it was
 * written — for a send, an unknown outcome (502 outcome_unknown) for an SMS that was never processed. Closing
 * first avoids that race: undici (Node's fetch) keeps idle sockets 4 s by default for the same reason, and Node's
 * agent shortens this further when a server announces `Keep-Alive: timeout=N` (N − 1 s).
 */
export const IDLE_SOCKET_MS = 4_000;

export interface HttpTransportOptions {
  maxSockets: number;
  /** Default IDLE_SOCKET_MS; tests shorten it. */
  idleSocketMs?: number;
  now?: () => number;
  /**
   * The two guards against Deno's re-send, both on by default and never turned off outside
   * gateway/test/deno/resend.test.ts, which turns each off in turn to show the other holds alone, and both off to
   * show that its race is real: Deno's private `_retrying` flag, and refusing a second 'socket'.
   */
  denoRetryFlag?: boolean;
  secondSocketGuard?: boolean;
}

export function createHttpTransport(options: HttpTransportOptions): HttpTransport {
  const now = options.now ?? Date.now;
  const agentOptions = {
    keepAlive: true,
    maxSockets: options.maxSockets,
    maxFreeSockets: options.maxSockets,
    // Node's agent applies it to free sockets (destroyed when it fires); on a socket in use it only emits
    // 'timeout', which nothing here listens to: the deadline (≤ SEND_TIMEOUT_MS) governs a request in flight.
    timeout: options.idleSocketMs ?? IDLE_SOCKET_MS,
  };
  const agents = { http: new http.Agent(agentOptions), https: new https.Agent(agentOptions) };

  function send(spec: HttpRequestSpec, limits: AttemptLimits, onWritten?: () => void): Promise<HttpAnswer> {
    const headers: Record<string, string> = { ...spec.headers, Connection: "keep-alive" };
    if (spec.body !== undefined) headers["Content-Length"] = String(Buffer.byteLength(spec.body));
    const secure = spec.url.protocol === "https:";
    const request = secure ? https.request : http.request;

    return new Promise((resolve, reject) => {
      const req = request(
        spec.url,
        { method: spec.method, headers, agent: secure ? agents.https : agents.http, signal: limits.signal },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on("data", (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_RESPONSE_BYTES) res.destroy(new ResponseTooLargeError("response larger than 1 MiB"));
            else chunks.push(chunk);
          });
          res.on("end", () =>
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8"), headers: res.headers }),
          );
          res.on("error", reject);
        },
      );
      // Nothing is written until a connected socket is in hand (a ClientRequest sends its head only on write or
      // end): the time spent waiting for a pooled connection or connecting counts, and a request that could no
      // longer finish before the deadline is never started. (On https the bytes leave after the TLS handshake, one
      // round trip after 'connect': the callers' minimum attempt time covers it.)
      let sockets = 0;
      req.on("socket", (socket) => {
        if (++sockets > 1 && options.secondSocketGuard !== false) {
          // Deno re-sends through a second socket (see below); Node never gives a request two. Emitted before the
          // runtime flushes the request onto it, so destroying here sends nothing.
          req.destroy(new ResendRefusedError("the runtime tried to send the request again on a new connection"));
          return;
        }
        const start = () => {
          if (now() > limits.startBy) {
            req.destroy(new AttemptNotStartedError("no time left before the deadline to start the request"));
            return;
          }
          onWritten?.();
          req.end(spec.body);
        };
        if (sockets > 1) return; // a re-send the unguarded runtime writes itself (the race test's baseline)
        if (socket.connecting) socket.once("connect", start);
        else start();
      });
      // Deno's node:http re-sends a request whose reused keep-alive socket closes before the answer — a POST it
      // has fully written, or one we aborted at the deadline (denoland/deno#36786; retry added in deno#31932):
      // the OTP would go out twice. Node never re-sends. `_retrying` is the flag Deno's canRetryRequest() checks
      // (ext/node/polyfills/_http_client.js); Node ignores it. The second-socket check above is the public guard
      // behind it. gateway/test/deno/resend.test.ts forces the race 60 times: 0 double sends with either guard,
      // 60 with neither, on the versions in ../runtime.ts (DENO_VERIFIED_VERSIONS); any other Deno logs a warning
      // at startup.
      if (options.denoRetryFlag !== false) (req as http.ClientRequest & { _retrying?: boolean })._retrying = true;
      req.on("error", reject);
    });
  }

  return {
    send,
    close() {
      agents.http.destroy();
      agents.https.destroy();
    },
  };
}

/** Errors are told apart by name, which survives a module loaded twice (a bundle's chunk and the sources). */
export function isNamed(err: unknown, name: string): boolean {
  return err instanceof Error && err.name === name;
}

/**
 * A request that got no usable answer, in the outcome's terms: before it was written nothing can have been sent
 * (a refused connection, no time left); after, the provider may have it.
 */
export function transportFailure(
  provider: string,
  err: unknown,
  { written, deadlinePassed }: { written: boolean; deadlinePassed: boolean },
): Extract<SendOutcome, { kind: "provider_rejected" | "unknown" }> {
  // An abort is the deadline's, whether or not the signal had flipped when the error was seen.
  const outOfTime = deadlinePassed || isNamed(err, "AbortError") || isNamed(err, "TimeoutError");
  if (!written) {
    const notStarted = outOfTime || isNamed(err, "AttemptNotStartedError");
    return {
      kind: "provider_rejected",
      code: notStarted ? NOT_STARTED : "not_connected",
      reason: notStarted ? `no time left to send to ${provider}` : `could not connect to ${provider}`,
    };
  }
  if (outOfTime) return { kind: "unknown", code: "deadline", reason: `${provider} did not answer before the deadline` };
  return {
    kind: "unknown",
    code: isNamed(err, "ResponseTooLargeError") ? "too_large" : "network",
    reason: `the connection to ${provider} failed after the request was written`,
  };
}

/** One request, its answer classified; a transport failure classified by whether the request was written. */
export async function sendClassified<T>(
  transport: HttpTransport,
  provider: string,
  spec: HttpRequestSpec,
  limits: AttemptLimits,
  classify: (answer: HttpAnswer) => T,
): Promise<T | ReturnType<typeof transportFailure>> {
  let written = false;
  try {
    return classify(await transport.send(spec, limits, () => (written = true)));
  } catch (err) {
    return transportFailure(provider, err, { written, deadlinePassed: limits.signal.aborted });
  }
}
