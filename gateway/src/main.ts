/**
 * The process edge: read the environment once, build the app, listen, drain on SIGTERM.
 * Runs unchanged on Node (bundled to dist/gateway.mjs + dist/chunks/) and Deno 2 (this file directly).
 */
import { createApp } from "./app.ts";
import { ConfigError, parseConfig } from "./config.ts";
import { createLogger } from "./log.ts";
import { createProvider } from "./providers/registry.ts";
import { runtimeVersion } from "./runtime.ts";
import { serve } from "./server.ts";

const logger = createLogger((line) => process.stdout.write(line));

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
const server = await serve(createApp({ config, provider, logger }), { port: config.port, host: config.host, logger });
logger.info("listening", { port: server.port, path: config.path, provider: provider.name, runtime: runtimeVersion() });

// Load the provider SDK after listening: the first challenge need not wait for it, the first send will.
provider.warmUp?.().catch((err: unknown) => {
  logger.error("provider warm-up failed", { provider: provider.name, error: err instanceof Error ? err.name : "unknown" });
});

let stopping = false;
function stop(signal: string) {
  if (stopping) return;
  stopping = true;
  logger.info("signal received", { signal });
  // A SIGTERM listener replaces the default exit on both runtimes (deno#28081): exit explicitly.
  void server.shutdown().finally(() => {
    provider.close?.();
    process.exit(0);
  });
}
process.on("SIGTERM", () => stop("SIGTERM"));
process.on("SIGINT", () => stop("SIGINT"));
