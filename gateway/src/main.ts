/**
 * The process edge: read the environment once, build the app, listen, drain on SIGTERM.
 * Runs unchanged on Node (bundled to dist/gateway.mjs + dist/chunks/) and Deno 2 (this file directly).
 */
import { createApp } from "./app.ts";
import { ConfigError, parseConfig } from "./config.ts";
import { connectionLimits } from "./connectionLimits.ts";
import { createLogger } from "./log.ts";
import { createBatchingSink } from "./logSink.ts";
import { createDedupe } from "./protection/dedupe.ts";
import { createProtectionKeys } from "./protection/keys.ts";
import { createLimits } from "./protection/limits.ts";
import { openStore } from "./protection/store.ts";
import { createProviders } from "./providers/registry.ts";
import { receiptsStartupLine } from "./receipts/settings.ts";
import { denoVersion, runtimeVersion, unverifiedDenoWarning } from "./runtime.ts";
import { createSender } from "./send.ts";
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
const { providers, warmUp: warmUpProviders, close: closeProviders } = createProviders(config, logger);
if (providers.has("log")) {
  logger.warn("SMS_PROVIDER=log: SMS are logged (redacted) and NOT delivered; for development only");
}
const receipts = receiptsStartupLine(config.receipts, [...providers.keys()]);
logger.log(receipts.severity, receipts.message, receipts.fields);
// Redis (REDIS_URL): waits up to 2 s for the first connection, else starts degraded and keeps reconnecting.
const store = await openStore(config.protection.store, { logger });
const keys = createProtectionKeys(config.protection.secret);
const protection = {
  dedupe: createDedupe({ store, keys, ...config.protection.dedupe, logger }),
  limits: createLimits({ store, keys, settings: config.protection.limits }),
};
const send = createSender({ table: config.routes, providers, failoverOnUnknown: config.failoverOnUnknown, now: Date.now, protection });
const app = createApp({ config, send, logger, protectionState: () => store.state });

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
  warmUpProviders().catch((err: unknown) => {
    logger.error("provider warm-up failed", { error: err instanceof Error ? err.name : "unknown" });
  });
}
const server = await serve(
  (req, res) => {
    if (warmUpPending) res.once("finish", () => setTimeout(warmUp, 0));
    app(req, res);
  },
  { port: config.port, host: config.host, logger, limits: connectionLimits(config) },
);
logger.info("listening", {
  port: server.port,
  path: config.path,
  providers: [...providers.keys()],
  routes: [...config.routes.byCountry.keys(), ...(config.routes.fallback ? ["*"] : [])],
  failoverOnUnknown: config.failoverOnUnknown,
  protection: { state: store.state, dedupeWindowS: config.protection.dedupe.windowMs / 1000 },
  runtime: runtimeVersion(),
});
const unverified = unverifiedDenoWarning(denoVersion());
if (unverified) logger.warn(unverified);
warmUpTimer = setTimeout(warmUp, WARM_UP_IDLE_MS);

let stopping = false;
function stop(signal: string) {
  if (stopping) return;
  stopping = true;
  logger.info("signal received", { signal });
  // A SIGTERM listener replaces the default exit on both runtimes (deno#28081): exit explicitly.
  // The store closes after the drain: the last sends still write their dedupe records.
  void server
    .shutdown()
    .then(() => store.close())
    .finally(() => {
      closeProviders();
      sink.flush();
      process.exit(0);
    });
}
process.on("SIGTERM", () => stop("SIGTERM"));
process.on("SIGINT", () => stop("SIGINT"));
