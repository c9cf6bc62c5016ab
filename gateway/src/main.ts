/**
 * The process edge: read the environment once, build the app, listen, drain on SIGTERM.
 * Runs unchanged on Node (bundled to dist/gateway.mjs + dist/chunks/) and Deno 2 (this file directly).
 */
import { createApp } from "./app.ts";
import { ConfigError, parseConfig } from "./config.ts";
import { connectionLimits } from "./connectionLimits.ts";
import { createLogger } from "./log.ts";
import { createBatchingSink } from "./logSink.ts";
import { createProvider } from "./providers/registry.ts";
import { runtimeVersion } from "./runtime.ts";
import { serve } from "./server.ts";

const sink = createBatchingSink((chunk) => process.stdout.write(chunk));
process.on("exit", () => sink.flush()); // stdout to a pipe or file is synchronous: the last lines get out
const logger = createLogger(sink.write);

function loadConfig() {
  try {
    return parseConfig(process.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`mosaic-sms-gateway: ${err.message}\n`);
    process.exit(1);
  }
}

const config = loadConfig();
const provider = createProvider(config, logger);
if (provider.name === "log") {
  logger.warn("SMS_PROVIDER=log: SMS are logged (redacted) and NOT delivered; for development only");
}
const app = createApp({ config, provider, logger });

/**
 * Load the provider SDK when nothing is waiting: after the first answer (on Cloud Run, the startup probe's) or
 * WARM_UP_IDLE_MS after listening, whichever comes first. Loading it is ~60 ms of synchronous parsing that the
 * first request would otherwise queue behind; a send that arrives before it simply loads it itself.
 */
const WARM_UP_IDLE_MS = 250;
let warmUpPending = true;
let warmUpTimer: ReturnType<typeof setTimeout> | undefined;
function warmUp(): void {
  if (!warmUpPending) return;
  warmUpPending = false;
  clearTimeout(warmUpTimer);
  provider.warmUp?.().catch((err: unknown) => {
    logger.error("provider warm-up failed", { provider: provider.name, error: err instanceof Error ? err.name : "unknown" });
  });
}
const server = await serve(
  (req, res) => {
    if (warmUpPending) res.once("finish", () => setTimeout(warmUp, 0));
    app(req, res);
  },
  { port: config.port, host: config.host, logger, limits: connectionLimits(config) },
);
logger.info("listening", { port: server.port, path: config.path, provider: provider.name, runtime: runtimeVersion() });
warmUpTimer = setTimeout(warmUp, WARM_UP_IDLE_MS);

let stopping = false;
function stop(signal: string) {
  if (stopping) return;
  stopping = true;
  logger.info("signal received", { signal });
  // A SIGTERM listener replaces the default exit on both runtimes (deno#28081): exit explicitly.
  void server.shutdown().finally(() => {
    provider.close?.();
    sink.flush();
    process.exit(0);
  });
}
process.on("SIGTERM", () => stop("SIGTERM"));
process.on("SIGINT", () => stop("SIGINT"));
