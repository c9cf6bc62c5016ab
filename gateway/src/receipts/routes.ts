import express, { type NextFunction, type Request, type Response } from "express";
import { GatewayError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { receiptLogFields, receiptSeverity, type CallbackResult } from "./receipt.ts";
import { createReplayCache } from "./replayCache.ts";
import { createTelnyxReceiptVerifier, parseTelnyxPublicKey, TELNYX_RECEIPT_PATH } from "./telnyx.ts";
import { createTwilioReceiptVerifier, TWILIO_RECEIPT_PATH } from "./twilio.ts";

export interface ReceiptRoutesDeps {
  logger: Logger;
  /**
   * The gateway's public origin as providers call it, e.g. `https://sms-gateway-abc-uc.a.run.app` (from Pulumi):
   * Twilio signs that URL, not the one the container sees. Required with `twilio`.
   */
  publicBaseUrl?: string;
  /** Twilio receipts, only with the account auth token (twilioReceiptAvailability). */
  twilio?: { authToken: string; windowMs?: number };
  /** Telnyx receipts: the account's base64 Ed25519 public key (TELNYX_PUBLIC_KEY). */
  telnyx?: { publicKey: string };
  now?: () => number;
}

/**
 * Receipts are a few hundred bytes of form fields (Twilio) or ~2 KB of JSON (Telnyx, the OTP text included):
 * the send path's 16 KiB cap holds them with room and bounds what an unauthenticated caller can make us read.
 */
const BODY_LIMIT = "16kb";

/** express.raw leaves no body at all on a request without one: verify that as zero bytes (it fails). */
function bodyOf(req: Request): Buffer {
  return Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
}

/**
 * The receipt endpoints, for app.ts to mount before its 404 handler. Not behind X-API-Key (providers cannot
 * send it) but behind each provider's signature; anything unsigned, badly signed, stale, replayed or oversized
 * is refused with a 4xx through `next(err)` — errors.ts maps it — and changes nothing. Only providers passed
 * in `deps` get a route; the others fall through to the app's 404.
 */
export function createReceiptRoutes(deps: ReceiptRoutesDeps): express.Router {
  const { logger, now = Date.now } = deps;
  const router = express.Router();

  function answer(res: Response, result: CallbackResult): void {
    if (result.kind === "receipt") {
      logger.log(
        receiptSeverity(result.receipt.status),
        `receipt ${result.receipt.provider} ${result.receipt.status}`,
        receiptLogFields(result.receipt),
      );
    }
    res.set("Cache-Control", "no-store").json({ status: result.kind === "receipt" ? "received" : "ignored" });
  }

  function requireType(type: string) {
    return function requireContentType(req: Request, _res: Response, next: NextFunction): void {
      if (req.is(type)) next();
      else next(new GatewayError("unsupported_media_type", `Content-Type must be ${type}`));
    };
  }
  const rawBody = express.raw({ limit: BODY_LIMIT, type: () => true });

  if (deps.twilio) {
    if (!deps.publicBaseUrl) throw new Error("Twilio receipts need publicBaseUrl: Twilio signs the public URL");
    const base = deps.publicBaseUrl.replace(/\/+$/, "");
    // One cache per provider: within one, entries expire in the order they arrive (see replayCache.ts).
    const replays = createReplayCache({ now });
    const verifier = createTwilioReceiptVerifier({ authToken: deps.twilio.authToken, now, replays, windowMs: deps.twilio.windowMs });
    router.post(
      TWILIO_RECEIPT_PATH,
      requireType("application/x-www-form-urlencoded"),
      rawBody,
      function twilioReceipt(req, res) {
        answer(
          res,
          verifier.handle({
            signature: req.get("X-Twilio-Signature"),
            url: `${base}${req.originalUrl}`,
            body: bodyOf(req).toString("utf8"),
          }),
        );
      },
    );
  }

  if (deps.telnyx) {
    const replays = createReplayCache({ now });
    const verifier = createTelnyxReceiptVerifier({ publicKey: parseTelnyxPublicKey(deps.telnyx.publicKey), now, replays });
    router.post(TELNYX_RECEIPT_PATH, requireType("application/json"), rawBody, function telnyxReceipt(req, res) {
      answer(
        res,
        verifier.handle({
          signature: req.get("telnyx-signature-ed25519"),
          timestamp: req.get("telnyx-timestamp"),
          body: bodyOf(req),
        }),
      );
    });
  }

  return router;
}
