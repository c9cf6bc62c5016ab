import { describe, expect, it } from "vitest";
import { parseE164 } from "../src/phone.ts";
import type { AttemptLimits } from "../src/providers/transport.ts";
import { createHttpTransport } from "../src/providers/transport.ts";
import type { TwilioHttpRequest, TwilioTransport } from "../src/providers/twilio/httpClient.ts";
import { createTwilioProvider } from "../src/providers/twilio/index.ts";
import { createMessagesApi, type MessagesFactory } from "../src/providers/twilio/sdk.ts";
import { twilioConfig } from "./support.ts";

/**
 * One SDK client per process (issue 12): every attempt's request must still go through that attempt's own limits
 * and state, however many run at once, and an SDK that stops calling its httpClient synchronously must be refused
 * before anything is written.
 */

interface Seen {
  /** The `To` of the request the SDK handed to this attempt's bound client. */
  to: string;
  startBy: number;
}

/** A scripted transport: each bound client answers after `delayMs` with a SID derived from the request's To. */
function recordingTransport(delayMs: () => number) {
  const seen: Seen[] = [];
  const transport: TwilioTransport = {
    bind(limits: AttemptLimits) {
      let written = false;
      return {
        async request(opts: TwilioHttpRequest) {
          written = true;
          const to = String(opts.data?.To);
          seen.push({ to, startBy: limits.startBy });
          await new Promise((r) => setTimeout(r, delayMs()));
          const sid = `SM${to.slice(-10).padStart(32, "0")}`;
          return { statusCode: 201, body: JSON.stringify({ sid }), headers: {} };
        },
        get lastHeaders() {
          return undefined;
        },
        get written() {
          return written;
        },
      };
    },
  };
  return { transport, seen };
}

function provider(sdkTransport: TwilioTransport, loadSdk: () => Promise<MessagesFactory>) {
  return createTwilioProvider(twilioConfig("http://127.0.0.1:9"), {
    transport: createHttpTransport({ maxSockets: 1 }), // unused: the SDK talks to sdkTransport
    sdkTransport,
    loadSdk,
  });
}

describe("Twilio: one SDK client for every send", () => {
  it("builds the SDK client once, and 60 concurrent attempts each send through their own limits", async () => {
    let built = 0;
    const factory: MessagesFactory = (...args) => {
      built++;
      return createMessagesApi(...args);
    };
    const { transport, seen } = recordingTransport(() => Math.floor(Math.random() * 5));
    const twilio = provider(transport, async () => factory);
    const now = Date.now();
    const numbers = Array.from({ length: 60 }, (_, i) => `+1415555${String(1000 + i)}`);
    const outcomes = await Promise.all(
      numbers.map((n, i) =>
        twilio.attempt(
          { to: parseE164(n)!, body: "code 1", senderId: undefined },
          // A distinct startBy per attempt: it tells which attempt's limits the request went through.
          { signal: new AbortController().signal, deadline: now + 60_000, startBy: now + 10_000 + i, sender: {} },
        ),
      ),
    );
    expect(built).toBe(1);
    expect(seen).toHaveLength(60);
    for (const s of seen) expect(s.startBy - now - 10_000).toBe(numbers.indexOf(s.to));
    outcomes.forEach((o, i) => expect(o).toEqual({ kind: "sent", id: `SM${numbers[i]!.slice(-10).padStart(32, "0")}` }));
  });

  it("an SDK that calls its httpClient after an await is refused before anything is written", async () => {
    const { transport, seen } = recordingTransport(() => 0);
    // What a future SDK might do: an async step (a token fetch, say) before the request.
    const lateSdk: MessagesFactory = (_u, _p, opts) => ({
      async create(params) {
        await Promise.resolve();
        const res = await opts.httpClient.request({ method: "post", uri: "https://api.twilio.com/x", data: { To: params.to } });
        return JSON.parse(res.body) as { sid?: unknown };
      },
      page: () => Promise.reject(new Error("unused")),
    });
    const twilio = provider(transport, async () => lateSdk);
    const now = Date.now();
    const outcome = await twilio.attempt(
      { to: parseE164("+14155552671")!, body: "code 1", senderId: undefined },
      { signal: new AbortController().signal, deadline: now + 5_000, startBy: now + 5_000, sender: {} },
    );
    expect(outcome).toMatchObject({ kind: "provider_rejected", code: "sdk_call_order" });
    await new Promise((r) => setImmediate(r)); // the SDK's late request has run (and been refused) by now
    expect(seen).toHaveLength(0);
  });
});
