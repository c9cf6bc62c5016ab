import express, { type NextFunction, type Request, type Response } from "express";
import { createApiKeyVerifier } from "./apiKeys.ts";
import type { GatewayConfig } from "./config.ts";
import { GatewayError, toErrorResponse, toGatewayError } from "./errors.ts";
import { traceFields, type Logger } from "./log.ts";
import { maskPhone } from "./phone.ts";
import type { SmsProvider } from "./providers/provider.ts";
import { parseSmsRequest } from "./smsRequest.ts";

export interface AppDeps {
  config: Pick<GatewayConfig, "path" | "apiKeys" | "sendTimeoutMs" | "projectId">;
  provider: SmsProvider;
  logger: Logger;
  now?: () => number;
}

/** Per-request facts for the access log line; only masked or non-secret values go here. */
interface RequestLog {
  receivedAt: number;
  provider?: string;
  providerMessageId?: string;
  destination?: string;
  error?: GatewayError;
}

/**
 * The deadline fires this much before SEND_TIMEOUT_MS so that the 504 itself — error mapping, log line, the write
 * — is on the wire by SEND_TIMEOUT_MS, not a few milliseconds after it.
 */
const ANSWER_MARGIN_MS = 20;

/** Mosaic's POSTs are ~200 bytes; 16 KiB leaves room and bounds memory per request. */
const BODY_LIMIT = "16kb";

function logOf(res: Response): RequestLog {
  return res.locals as RequestLog;
}

function sendError(res: Response, err: unknown): void {
  const error = toGatewayError(err);
  logOf(res).error = error;
  const { status, body } = toErrorResponse(error);
  if (status === 405) res.set("Allow", "GET, HEAD, POST");
  res.status(status).json(body);
}

/**
 * The gateway's HTTP surface: Mosaic's GET challenge and POST send on one path, plus /healthz.
 * Built here and started in server.ts, so tests drive it without listening on a configured port.
 */
export function createApp({ config, provider, logger, now = Date.now }: AppDeps): express.Express {
  const verifyApiKey = createApiKeyVerifier(config.apiKeys);
  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false);

  app.use(function accessLog(req, res, next) {
    const log = logOf(res);
    log.receivedAt = now();
    res.on("finish", () => writeAccessLog(req, res, true));
    res.on("close", () => {
      if (!res.writableFinished) writeAccessLog(req, res, false);
    });
    next();
  });

  function writeAccessLog(req: Request, res: Response, answered: boolean): void {
    const log = logOf(res);
    const status = answered ? res.statusCode : 499; // 499: the client went away before the answer
    const latencyMs = now() - log.receivedAt;
    const severity = status >= 500 ? "ERROR" : status >= 400 ? "WARNING" : "INFO";
    logger.log(severity, `${req.method} ${req.path} ${status}`, {
      httpRequest: { requestMethod: req.method, requestUrl: req.path, status, latency: `${latencyMs / 1000}s` },
      latencyMs,
      ...(log.provider && { provider: log.provider }),
      ...(log.providerMessageId && { providerMessageId: log.providerMessageId }),
      ...(log.destination && { destination: log.destination }),
      ...(log.error && { errorCode: log.error.code, ...log.error.context }),
      ...traceFields(req.get("X-Cloud-Trace-Context"), config.projectId),
    });
  }

  app.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });

  function requireApiKey(req: Request, res: Response, next: NextFunction): void {
    if (verifyApiKey(req.get("X-API-Key"))) next();
    else sendError(res, new GatewayError("unauthorized", "missing or invalid X-API-Key"));
  }

  app.get(config.path, requireApiKey, function answerChallenge(req, res) {
    const key = req.get("X-Verification-Key");
    if (!key) return sendError(res, new GatewayError("invalid_request", "X-Verification-Key header is required"));
    res.set("Cache-Control", "no-store").json({ key });
  });

  /**
   * One deadline per POST, from arrival: a body that is still arriving when it passes gets a 408, a provider
   * that is still working gets aborted and the request a 504. Mosaic gives up at about 3 s.
   */
  function startDeadline(_req: Request, res: Response, next: NextFunction): void {
    const controller = new AbortController();
    const deadline = logOf(res).receivedAt + config.sendTimeoutMs - ANSWER_MARGIN_MS;
    const timer = setTimeout(() => {
      controller.abort(new GatewayError("provider_timeout", "deadline passed"));
      if (!res.locals.sending && !res.headersSent) {
        res.set("Connection", "close");
        sendError(res, new GatewayError("request_timeout", "request body did not arrive in time"));
      }
    }, Math.max(0, deadline - now()));
    res.on("close", () => clearTimeout(timer));
    res.locals.deadline = { signal: controller.signal, deadline };
    next();
  }

  function requireJson(req: Request, res: Response, next: NextFunction): void {
    if (req.is("application/json")) next();
    else sendError(res, new GatewayError("unsupported_media_type", "Content-Type must be application/json"));
  }

  app.post(
    config.path,
    requireApiKey, // before the body is read: an unauthenticated caller costs us no parsing
    startDeadline,
    requireJson,
    express.json({ limit: BODY_LIMIT, strict: true, type: () => true }),
    async function sendSms(req, res) {
      if (res.headersSent) return; // the deadline answered while the body was arriving
      res.locals.sending = true;
      const log = logOf(res);
      log.provider = provider.name;
      const sms = parseSmsRequest(req.body);
      log.destination = maskPhone(sms.destination.e164, sms.destination.callingCode);
      const { signal, deadline } = res.locals.deadline as { signal: AbortSignal; deadline: number };
      const aborted = new Promise<never>((_, reject) => {
        if (signal.aborted) reject(signal.reason);
        signal.addEventListener("abort", () => reject(signal.reason), { once: true });
      });
      const result = await Promise.race([
        provider.send({ to: sms.destination, body: sms.message, senderId: sms.senderId }, { signal, deadline }),
        aborted,
      ]);
      log.providerMessageId = result.id;
      res.set("Cache-Control", "no-store").json({ status: "sent", provider: provider.name, id: result.id });
    },
  );

  app.all(config.path, (_req, res) => sendError(res, new GatewayError("method_not_allowed", "use GET or POST")));
  app.use((_req, res) => sendError(res, new GatewayError("not_found", "no such endpoint")));

  // Express 5 forwards rejected async handlers here: the only place errors become responses.
  app.use(function errorHandler(err: unknown, _req: Request, res: Response, _next: NextFunction) {
    if (res.headersSent) return;
    sendError(res, err);
  });

  return app;
}
