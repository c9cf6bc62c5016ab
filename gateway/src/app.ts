import express, { type NextFunction, type Request, type Response } from "express";
import { createApiKeyVerifier } from "./apiKeys.ts";
import { HEALTH_PATHS, type GatewayConfig } from "./config.ts";
import { GatewayError, toErrorResponse, toGatewayError } from "./errors.ts";
import { traceFields, type Logger } from "./log.ts";
import type { AttemptRecord } from "./delivery/chain.ts";
import { maskPhone } from "./phone.ts";
import type { StoreState } from "./protection/store.ts";
import type { ProviderName } from "./providers/provider.ts";
import { createReceiptRoutes } from "./receipts/routes.ts";
import { sendLogLine, sendOutcome, verdictError, type Sender, type SendReport } from "./send.ts";
import { parseSmsRequest } from "./smsRequest.ts";

export interface AppDeps {
  /** The receipt settings are optional here: without them no receipt endpoint is mounted. */
  config: Pick<GatewayConfig, "path" | "apiKeys" | "sendTimeoutMs" | "projectId"> & Partial<Pick<GatewayConfig, "receipts">>;
  /** One send: route and attempt chain (send.ts). */
  send: Sender;
  logger: Logger;
  now?: () => number;
  /**
   * Where protection state lives now (issue 11): local | shared | degraded, in the health answer's body — never
   * in its status, so the probe does not kill a healthy instance while Redis is away. Omitted: not reported.
   */
  protectionState?: () => StoreState;
}

/** One request's state, in `res.locals`: the log lines' facts (masked or non-secret only) and the deadline. */
interface RequestState {
  receivedAt: number;
  /** The provider that sent, or the last one tried. */
  provider?: ProviderName;
  providerMessageId?: string;
  destination?: string;
  country?: string;
  route?: string;
  attempts?: AttemptRecord[];
  /** The answer repeats an earlier send's (send.ts SendReport.deduplicated). */
  deduplicated?: SendReport["deduplicated"];
  error?: GatewayError;
  deadline?: { signal: AbortSignal; at: number };
  /** The send has started: from here the deadline answers 504 through the handler, not 408 itself. */
  sending?: boolean;
  /** The sms.send line is written (once per POST). */
  sendLogged?: boolean;
}

/**
 * The deadline fires this much before SEND_TIMEOUT_MS so that the 504 itself — error mapping, log line, the write
 * — is on the wire by SEND_TIMEOUT_MS, not a few milliseconds after it.
 */
const ANSWER_MARGIN_MS = 20;

/**
 * At the deadline a provider settles at once with its own verdict, since only it knows whether its request was
 * written (504 provider_timeout: not sent; 504 outcome_unknown: may be sent). One that has not settled this long
 * after the abort is answered outcome_unknown: it may have sent. Inside ANSWER_MARGIN_MS, so still on time.
 */
const ABORT_GRACE_MS = 10;

function ignoredAbort(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    const answer = () =>
      setTimeout(() => {
        const message = "the provider did not stop at the deadline: the SMS may or may not have been sent";
        reject(new GatewayError("outcome_unknown", message, { atDeadline: true }));
      }, ABORT_GRACE_MS);
    if (signal.aborted) answer();
    else signal.addEventListener("abort", answer, { once: true });
  });
}

/** What Node's (and Deno's) http server treats as 100-continue (lib/_http_server.js, continueExpression). */
const CONTINUE_EXPECTATION = /(?:^|\W)100-continue(?:$|\W)/i;

/** Mosaic's POSTs are ~200 bytes; 16 KiB leaves room and bounds memory per request. */
const BODY_LIMIT = "16kb";

function stateOf(res: Response): RequestState {
  return res.locals as RequestState;
}

function sendError(res: Response, err: unknown): void {
  const error = toGatewayError(err);
  stateOf(res).error = error;
  const { status, body, headers } = toErrorResponse(error);
  res.set(headers);
  if (status === 405) res.set("Allow", "GET, HEAD, POST");
  // Answered before the request finished arriving (an early 401, 404, 413, 415, 408): close the connection rather
  // than read the rest of a body nobody wants. Otherwise the runtime keeps reading it to reuse the connection, and
  // a client trickling a chunked body holds the socket until the request timeout (Deno: indefinitely).
  if (!res.req.complete) res.set("Connection", "close");
  res.status(status).json(body);
}

/**
 * The gateway's HTTP surface: Mosaic's GET challenge and POST send on one path, plus the health paths.
 * Built here and started in server.ts, so tests drive it without listening on a configured port.
 */
export function createApp({ config, send, logger, now = Date.now, protectionState }: AppDeps): express.Express {
  const verifyApiKey = createApiKeyVerifier(config.apiKeys);
  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false);

  app.use(function accessLog(req, res, next) {
    stateOf(res).receivedAt = now();
    res.on("finish", () => writeAccessLog(req, res, true));
    res.on("close", () => {
      if (!res.writableFinished) writeAccessLog(req, res, false);
    });
    next();
  });

  /** The `sms.send` line, once per authenticated POST to the send path, whatever became of it. */
  function writeSendLog(state: RequestState, error: GatewayError | undefined): void {
    if (state.sendLogged) return;
    state.sendLogged = true;
    const attempts = state.attempts ?? [];
    const line = sendLogLine({
      outcome: sendOutcome(error, state.deduplicated !== undefined),
      provider: state.provider ?? attempts.at(-1)?.provider,
      country: state.country,
      destination: state.destination,
      route: state.route,
      attempts,
      providerMessageId: state.providerMessageId,
      latencyMs: now() - state.receivedAt,
      limit: typeof error?.context.limit === "string" ? error.context.limit : undefined,
      dedupe: state.deduplicated,
    });
    logger.log(line.severity, line.message, line.fields);
  }

  function writeAccessLog(req: Request, res: Response, answered: boolean): void {
    const log = stateOf(res);
    // Refused before the send started (415, 413, bad JSON, a body too slow): the sms.send line is written here.
    if (log.deadline && !log.sending) writeSendLog(log, log.error);
    const status = answered ? res.statusCode : 499; // 499: the client went away before the answer
    const latencyMs = now() - log.receivedAt;
    const severity = status >= 500 ? "ERROR" : status >= 400 ? "WARNING" : "INFO";
    logger.log(severity, `${req.method} ${req.path} ${status}`, {
      httpRequest: { requestMethod: req.method, requestUrl: req.path, status, latency: `${latencyMs / 1000}s` },
      latencyMs,
      ...((log.provider ?? log.attempts?.at(-1)?.provider) && { provider: log.provider ?? log.attempts?.at(-1)?.provider }),
      ...(log.providerMessageId && { providerMessageId: log.providerMessageId }),
      ...(log.destination && { destination: log.destination }),
      ...(log.error && { errorCode: log.error.code, ...log.error.context }),
      ...traceFields(req.get("X-Cloud-Trace-Context"), config.projectId),
    });
  }

  // RFC 9110 §10.1.1: a server may answer 417 to an expectation it cannot meet. 100-continue is the only one
  // defined, and the runtime has already answered it (with 100 Continue) when its value mentions it.
  app.use(function refuseExpectations(req, res, next) {
    const expectation = req.get("Expect");
    if (expectation === undefined || CONTINUE_EXPECTATION.test(expectation)) next();
    else sendError(res, new GatewayError("expectation_failed", "only Expect: 100-continue is supported"));
  });

  app.get([...HEALTH_PATHS], (_req, res) => {
    res.json({ status: "ok", ...(protectionState && { state: protectionState() }) });
  });

  // Delivery receipts: not behind X-API-Key (providers cannot send it) nor the send deadline, but behind each
  // provider's signature (receipts/routes.ts). Only the providers whose receipts can be verified get a route, and
  // with none the router is not mounted at all: an empty Express router hands every request on through a
  // setImmediate (router 2.x, "no more matching layers"), which made each send cost ~1.5× the CPU on Deno
  // (npm run bench -- --compare).
  const { receipts } = config;
  if (receipts && (receipts.twilio.enabled || receipts.telnyx.enabled)) {
    app.use(
      createReceiptRoutes({
        logger,
        now,
        publicBaseUrl: receipts.publicBaseUrl,
        ...(receipts.twilio.enabled && { twilio: { authToken: receipts.twilio.authToken } }),
        ...(receipts.telnyx.enabled && { telnyx: { publicKey: receipts.telnyx.publicKey } }),
      }),
    );
  }

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
    const state = stateOf(res);
    const at = state.receivedAt + config.sendTimeoutMs - ANSWER_MARGIN_MS;
    const timer = setTimeout(() => {
      controller.abort(new GatewayError("provider_timeout", "deadline passed"));
      if (!state.sending && !res.headersSent) {
        res.set("Connection", "close");
        sendError(res, new GatewayError("request_timeout", "request body did not arrive in time"));
      }
    }, Math.max(0, at - now()));
    res.on("close", () => clearTimeout(timer));
    state.deadline = { signal: controller.signal, at };
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
      const state = stateOf(res);
      state.sending = true;
      state.attempts = [];
      try {
        const sms = parseSmsRequest(req.body);
        state.destination = maskPhone(sms.destination.e164, sms.destination.callingCode);
        state.country = sms.destination.country;
        const { signal, at: deadline } = state.deadline!;
        const report = await Promise.race([
          send({ to: sms.destination, body: sms.message, senderId: sms.senderId }, { signal, deadline }, state.attempts),
          ignoredAbort(signal),
        ]);
        state.route = report.route;
        if (report.verdict.kind !== "sent") throw verdictError(report.verdict, state.country);
        state.provider = report.verdict.provider;
        state.providerMessageId = report.verdict.id;
        state.deduplicated = report.deduplicated;
        writeSendLog(state, undefined);
        res.set("Cache-Control", "no-store").json({
          status: "sent",
          provider: report.verdict.provider,
          id: report.verdict.id,
          ...(report.deduplicated && { deduplicated: true }),
        });
      } catch (err) {
        writeSendLog(state, toGatewayError(err));
        throw err;
      }
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
