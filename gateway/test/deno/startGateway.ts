/**
 * Starts the gateway under this Deno as a child process with PORT=0, and reads the port from its "listening" log
 * line. Only the permissions the README grants. Two entries: the sources, as `npm run start:deno` runs them, and
 * the esbuild bundle (`npm run build`), as gateway/Dockerfile.deno runs it.
 */

const ROOT = new URL("../../../", import.meta.url);
export const ENTRIES = {
  source: new URL("gateway/src/main.ts", ROOT),
  bundle: new URL("dist/gateway.mjs", ROOT),
} as const;
export type Entry = keyof typeof ENTRIES;

export interface DenoGateway {
  url: string;
  /** The gateway's JSON log lines so far (its logs carry no secrets by contract). */
  readonly logs: Record<string, unknown>[];
  /** Sends a signal; `exited` resolves when the process is gone. */
  kill(signal: Deno.Signal): void;
  readonly exited: Promise<Deno.CommandStatus>;
  /** SIGKILL if still running, then wait for the process and its pipes: every test ends with this. */
  stop(): Promise<void>;
}

/** The parent's env minus anything that could point the child at a real account. */
function childEnv(overrides: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(Deno.env.toObject())) {
    if (!/^(TWILIO_|TELNYX_|SMC_|FAILOVER_ON_UNKNOWN$|GATEWAY_|MOSAIC_|SMS_|GOOGLE_|PORT$|SEND_TIMEOUT_MS$|PUBLIC_BASE_URL$|OTP_VALIDITY_S$)/.test(key)) env[key] = value;
  }
  return { ...env, ...overrides, PORT: "0" };
}

async function readLines(stream: ReadableStream<Uint8Array>, onLine: (line: string) => void): Promise<void> {
  let buffered = "";
  for await (const text of stream.pipeThrough(new TextDecoderStream())) {
    buffered += text;
    let newline: number;
    while ((newline = buffered.indexOf("\n")) >= 0) {
      onLine(buffered.slice(0, newline));
      buffered = buffered.slice(newline + 1);
    }
  }
  if (buffered) onLine(buffered);
}

export async function startGateway(
  env: Record<string, string>,
  entry: Entry = "source",
  startTimeoutMs = 20_000,
): Promise<DenoGateway> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", "--allow-env", "--allow-read", "--allow-sys", ENTRIES[entry].pathname],
    cwd: ROOT.pathname,
    env: childEnv(env),
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();

  const logs: Record<string, unknown>[] = [];
  let stderr = "";
  let onListening: ((port: number) => void) | undefined;
  const pipes = Promise.all([
    readLines(child.stdout, (raw) => {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(raw);
      } catch {
        entry = { message: raw };
      }
      logs.push(entry);
      if (entry.message === "listening" && typeof entry.port === "number") onListening?.(entry.port);
    }),
    readLines(child.stderr, (line) => (stderr += `${line}\n`)),
  ]);
  const exited = child.status;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running = true;
  void exited.then(() => (running = false));

  async function stop() {
    if (running) {
      try {
        child.kill("SIGKILL");
      } catch {
        // exited meanwhile
      }
    }
    await exited;
    await pipes;
  }

  try {
    const port = await Promise.race([
      new Promise<number>((resolve) => (onListening = resolve)),
      exited.then((status) => {
        throw new Error(`the gateway exited with ${status.code} before listening:\n${stderr}`);
      }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`the gateway did not log "listening" within ${startTimeoutMs} ms:\n${stderr}`)),
          startTimeoutMs,
        );
      }),
    ]);
    return {
      url: `http://127.0.0.1:${port}`,
      logs,
      kill: (signal) => child.kill(signal),
      exited,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  } finally {
    clearTimeout(timer);
  }
}
