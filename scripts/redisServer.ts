/**
 * A real Redis for tests and benchmarks: Debian's `redis-server` (apt-get install -y redis-server; .ci/run installs
 * it), started on a free loopback port with nothing persisted, and stopped again. Also makes a throwaway CA and a
 * server certificate with `openssl` for the TLS (rediss://) case, shaped like Memorystore's: the IP in the CN only.
 * Runs on Node and on Deno (the Deno suite's Redis smoke uses it too).
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { freeLoopbackPort } from "./loopbackPort.ts";

export type Availability = { available: true } | { available: false; reason: string };

function commandWorks(file: string, args: string[]): boolean {
  const result = spawnSync(file, args, { stdio: "ignore" });
  return result.error === undefined && result.status === 0;
}

export function redisServerAvailability(): Availability {
  return commandWorks("redis-server", ["--version"])
    ? { available: true }
    : { available: false, reason: "redis-server is not installed (Debian: apt-get install -y redis-server)" };
}

export function opensslAvailability(): Availability {
  return commandWorks("openssl", ["version"])
    ? { available: true }
    : { available: false, reason: "openssl is not installed (Debian: apt-get install -y openssl)" };
}

/** CI=true (or 1): a suite that needs a missing tool must fail there, not skip. */
export function onCi(env: Record<string, string | undefined>): boolean {
  return env.CI !== undefined && env.CI !== "" && env.CI !== "false" && env.CI !== "0";
}

export interface TestCertificates {
  dir: string;
  caFile: string;
  /** The CA in PEM, as REDIS_CA_CERT carries it. */
  caPem: string;
  certFile: string;
  keyFile: string;
  remove(): void;
}

/** A CA and a server certificate for 127.0.0.1 (CN only, no subjectAltName: like Memorystore's). */
export function makeTestCertificates(): TestCertificates {
  const dir = mkdtempSync(path.join(tmpdir(), "redis-tls-"));
  const file = (name: string) => path.join(dir, name);
  const openssl = (...args: string[]) => {
    const result = spawnSync("openssl", args, { cwd: dir, encoding: "utf8" });
    if (result.status !== 0) throw new Error(`openssl ${args[0]} failed: ${result.stderr}`);
  };
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  openssl("req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=protection-test-ca");
  openssl("req", ...ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1");
  writeFileSync(file("serial"), "01\n");
  openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAserial", "serial", "-out", "server.crt", "-days", "2");
  return {
    dir,
    caFile: file("ca.crt"),
    caPem: readFileSync(file("ca.crt"), "utf8"),
    certFile: file("server.crt"),
    keyFile: file("server.key"),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface RedisServerOptions {
  /** requirepass: clients must AUTH. */
  password?: string;
  /** Serve TLS only (rediss://), with this certificate. */
  tls?: TestCertificates;
}

export interface RedisServer {
  port: number;
  /** redis:// or rediss:// URL, without the password. */
  url: string;
  /** Stops the server (SIGTERM, then SIGKILL after 5 s); nothing is persisted. */
  stop(): Promise<void>;
  /** Starts it again on the same port (after stop()). */
  restart(): Promise<void>;
  /** SIGSTOP / SIGCONT: a server that accepts connections but answers nothing. */
  pause(): void;
  resume(): void;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function spawnServer(port: number, options: RedisServerOptions): Promise<ChildProcess> {
  const args = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no", "--logfile", ""];
  args.push("--dir", tmpdir());
  if (options.password !== undefined) args.push("--requirepass", options.password);
  if (options.tls) {
    args.push("--port", "0", "--tls-port", String(port), "--tls-cert-file", options.tls.certFile);
    args.push("--tls-key-file", options.tls.keyFile, "--tls-ca-cert-file", options.tls.caFile, "--tls-auth-clients", "no");
  } else {
    args.push("--port", String(port));
  }
  const child = spawn("redis-server", args, { stdio: ["ignore", "pipe", "pipe"] });
  live.add(child);
  child.once("exit", () => live.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once("exit", () => {
      for (const c of live) signal(c, "SIGKILL");
    });
  }
  return new Promise((resolve, reject) => {
    const lines: string[] = [];
    const timer = setTimeout(() => fail(new Error(`redis-server not ready in 10 s: ${lines.slice(-5).join(" | ")}`)), 10_000);
    const fail = (err: Error) => {
      clearTimeout(timer);
      signal(child, "SIGKILL");
      reject(err);
    };
    const reader = createInterface({ input: child.stdout! });
    reader.on("line", (line) => {
      lines.push(line);
      if (/Ready to accept connections/.test(line)) {
        clearTimeout(timer);
        reader.close();
        child.stdout!.resume();
        resolve(child);
      }
    });
    child.stderr!.resume();
    child.once("exit", (code) => fail(new Error(`redis-server exited (${code}): ${lines.slice(-5).join(" | ")}`)));
  });
}

/**
 * process.kill, not child.kill: Deno's child.kill() counts any signal as the kill and refuses every later one
 * (a SIGSTOP would leave the server impossible to resume or stop).
 */
function signal(child: ChildProcess, name: NodeJS.Signals): void {
  try {
    process.kill(child.pid!, name);
  } catch {
    // already gone
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  signal(child, "SIGCONT"); // a paused server would not act on SIGTERM
  signal(child, "SIGTERM");
  const timer = setTimeout(() => signal(child, "SIGKILL"), 5000);
  await exited;
  clearTimeout(timer);
}

/** Starts redis-server on a free 127.0.0.1 port (a few tries: another process may take the port first). */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freeLoopbackPort();
    let child: ChildProcess;
    try {
      child = await spawnServer(port, options);
    } catch (err) {
      lastError = err;
      continue;
    }
    return {
      port,
      url: `${options.tls ? "rediss" : "redis"}://127.0.0.1:${port}`,
      stop: () => stopChild(child),
      async restart() {
        await stopChild(child);
        child = await spawnServer(port, options);
      },
      pause: () => signal(child, "SIGSTOP"),
      resume: () => signal(child, "SIGCONT"),
    };
  }
  throw lastError;
}
