// What every same-work baseline reads: the gateway's own variables (PORT, GATEWAY_API_KEY, TWILIO_*, CONCURRENCY),
// so the bench starts a baseline exactly as it starts the gateway. Runs unchanged on Node and Deno.
import process from "node:process";

const env = process.env;
export const config = {
  port: Number(env.PORT ?? 0),
  apiKey: env.GATEWAY_API_KEY,
  accountSid: env.TWILIO_ACCOUNT_SID,
  authToken: env.TWILIO_AUTH_TOKEN,
  from: env.TWILIO_FROM_NUMBER,
  twilioBase: new URL(env.TWILIO_API_BASE_URL ?? "http://127.0.0.1:1"),
  /** The keep-alive pool's bound, as the gateway's (`maxSockets = CONCURRENCY`). */
  concurrency: Number(env.CONCURRENCY ?? 80),
};
export const messagesPath = `/2010-04-01/Accounts/${config.accountSid}/Messages.json`;

/** The line the bench waits for (scripts/processes.ts startServer). */
export function listening(port) {
  process.stdout.write(`${JSON.stringify({ message: "listening", port })}\n`);
}
process.on("SIGTERM", () => process.exit(0));
