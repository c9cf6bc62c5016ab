import http from "node:http";
import path from "node:path";
import { loopbackGatewayEnv, REPO_ROOT, startServer, type Started } from "../../scripts/processes.ts";

/** Test-only credentials: the gateway never reaches Twilio, only the loopback fake. */
export const API_KEY = "bench-api-key-0123456789";
export const ACCOUNT_SID = `AC${"0".repeat(32)}`;
export const AUTH_TOKEN = "bench-auth-token-not-a-secret";
export const PATH = "/send-sms";
/**
 * Under load, autocannon replaces `[<id>]` with a new id per request (`idReplacement`): every POST is a new SMS, as
 * Mosaic's are (one code each). With one text, the gateway's duplicate suppression would answer all but the first
 * from its record, sending nothing: not the same work as the baselines.
 */
export const SMS_BODY = JSON.stringify({ phone_number: "+14155552671", sender_id: "", message: "Your Acme code is [<id>]" });

/**
 * The abuse limits as they count in production, but never reached: one number receives every bench request, and a
 * refusal (no provider call) would not be the same work. Counting costs the same whatever N is.
 */
export const LIMITS_NEVER_REACHED = { RATE_LIMIT_PER_NUMBER: "1000000/1h", RATE_LIMIT_PER_PREFIX: "1000000/1h" };

export function gatewayEnv(twilioUrl: string, extra: Record<string, string> = {}): Record<string, string> {
  return loopbackGatewayEnv(twilioUrl, { apiKey: API_KEY, accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN }, { ...LIMITS_NEVER_REACHED, ...extra });
}

export interface FakeStats {
  received: number;
  /** Accepted since start: idle keep-alive sockets the fake closes (5 s) are reopened later, so this grows. */
  connections: number;
  /** Open at the same time, at most: what a subject's pool size bounds. */
  peakConnections: number;
}

export interface FakeTwilioHandle {
  url: string;
  stats(): Promise<FakeStats>;
  /** Forgets the sends it recorded (counters stay). */
  reset(): Promise<void>;
  setLatency(ms: number): Promise<void>;
}

export interface FakeTwilioProcess {
  fakes: FakeTwilioHandle[];
  stop(): Promise<unknown>;
}

/** `count` fake Twilios in one process of their own (bench/fakeTwilioProcess.ts), each answering after `latencyMs`. */
export async function startFakeTwilios(count: number, latencyMs: number): Promise<FakeTwilioProcess> {
  const started: Started = await startServer(
    {
      file: process.execPath,
      args: ["--import", "tsx", path.join(REPO_ROOT, "bench/fakeTwilioProcess.ts"), String(count), String(latencyMs)],
    },
    {},
  );
  const controlPort = started.ready.controlPort as number;
  const ports = started.ready.ports as number[];
  const call = (method: string, p: string) =>
    request({ port: controlPort, method, path: p }).then((r) => {
      if (r.status !== 200) throw new Error(`fake Twilio control ${method} ${p}: ${r.status}`);
      return JSON.parse(r.body) as FakeStats;
    });
  return {
    fakes: ports.map((port, i) => ({
      url: `http://127.0.0.1:${port}`,
      stats: () => call("GET", `/stats/${i}`),
      reset: () => call("POST", `/reset/${i}`).then(() => undefined),
      setLatency: (ms: number) => call("POST", `/latency/${i}/${ms}`).then(() => undefined),
    })),
    stop: () => started.stop(),
  };
}

export interface SimpleResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One request on a fresh connection (no agent), bounded by `timeoutMs`. */
export function request(opts: {
  port: number;
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string;
  timeoutMs?: number;
}): Promise<SimpleResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: "127.0.0.1", port: opts.port, method: opts.method ?? "GET", path: opts.path ?? "/", headers: opts.headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", reject);
      },
    );
    req.setTimeout(opts.timeoutMs ?? 10_000, () => req.destroy(new Error("request timed out")));
    req.on("error", reject);
    req.end(opts.body);
  });
}

export const challengeHeaders = { "X-API-Key": API_KEY, "X-Verification-Key": "bench-verification", Accept: "application/json" };
export const sendHeaders = { "X-API-Key": API_KEY, "Content-Type": "application/json" };
