/**
 * Deno smoke suite: the same gateway source, started under Deno, against the fault-injecting fake Twilio.
 * Only the minimal patterns; the rest is tested on Node with vitest. What matters here is that Deno's HTTP
 * client and server (not Node's) give the same answers and the same number of sends: a 500 or a reset must
 * reach Twilio exactly once, a hang must be answered inside the deadline, SIGTERM must drain.
 */
import { startFakeTwilio, type FakeTwilio, type TwilioFault } from "../../../scripts/emulators/twilio.ts";
import { PROTECTION_OFF } from "./helpers.ts";
import { ENTRIES, startGateway, type DenoGateway, type Entry } from "./startGateway.ts";

const API_KEY = "deno-smoke-gateway-key-0001";
const SEND_TIMEOUT_MS = 800;
/** Loopback scheduling slack on a busy CI machine; the contract is the deadline itself. */
const DEADLINE_MARGIN_MS = 400;

function twilioEnv(fake: FakeTwilio, sendTimeoutMs: number): Record<string, string> {
  return {
    GATEWAY_API_KEY: API_KEY,
    SMS_PROVIDER: "twilio",
    TWILIO_ACCOUNT_SID: `AC${"0123456789abcdef".repeat(2)}`,
    TWILIO_AUTH_TOKEN: "deno-smoke-auth-token",
    TWILIO_FROM_NUMBER: "+14155550111",
    TWILIO_API_BASE_URL: fake.url,
    SEND_TIMEOUT_MS: String(sendTimeoutMs),
    ...PROTECTION_OFF,
  };
}

function assertEquals<T>(actual: T, expected: T, what: string): void {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) {
    throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  }
}

function post(gateway: DenoGateway, message = "Your code is 123456") {
  return fetch(`${gateway.url}/send-sms`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-API-Key": API_KEY },
    body: JSON.stringify({ phone_number: "+14155552671", sender_id: "", message }),
  });
}

async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no ${what} within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A re-send happens right after the failed attempt (Deno's node:http re-adds the request to its agent at once),
 * so a short window after the answer is enough to see one.
 */
const SETTLE_MS = 250;

async function holds(condition: () => boolean, forMs: number, what: string): Promise<void> {
  const until = Date.now() + forMs;
  do {
    if (!condition()) throw new Error(`expected ${what}; it stopped holding`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  } while (Date.now() < until);
}

// The sources as `npm run start:deno` runs them, and the bundle as gateway/Dockerfile.deno ships it.
for (const entry of Object.keys(ENTRIES) as Entry[]) {
  Deno.test(`gateway under Deno (${entry}): challenge, send, and Twilio faults`, async (t) => {
    const fake = await startFakeTwilio();
    let gateway: DenoGateway | undefined;
    try {
      gateway = await startGateway(twilioEnv(fake, SEND_TIMEOUT_MS), entry);
      const gw = gateway;

      await t.step("GET challenge: 200 echoes the verification key", async () => {
        const res = await fetch(`${gw.url}/send-sms`, { headers: { "X-API-Key": API_KEY, "X-Verification-Key": "echo-me-42" } });
        assertEquals(res.status, 200, "status");
        assertEquals(res.headers.get("content-type")?.startsWith("application/json"), true, "JSON content type");
        assertEquals(await res.json(), { key: "echo-me-42" }, "body");
      });

      await t.step("GET challenge: wrong key is 401 and echoes nothing", async () => {
        const res = await fetch(`${gw.url}/send-sms`, {
          headers: { "X-API-Key": "not-the-gateway-key-0000", "X-Verification-Key": "echo-me-42" },
        });
        assertEquals(res.status, 401, "status");
        assertEquals((await res.text()).includes("echo-me-42"), false, "echoed the verification key");
      });

      await t.step("GET challenge: missing X-Verification-Key is 400", async () => {
        const res = await fetch(`${gw.url}/send-sms`, { headers: { "X-API-Key": API_KEY } });
        assertEquals(res.status, 400, "status");
        await res.body?.cancel();
      });

      // Deno 2 runs Node's server code and emits clientError (an older comment said it never did): the JSON shape
      // comes from gateway/src/clientError.ts, where the runtime's own answer would be a bare 400.
      await t.step("malformed HTTP gets the gateway's JSON 400 (clientError runs on Deno)", async () => {
        const conn = await Deno.connect({ hostname: "127.0.0.1", port: Number(new URL(gw.url).port) });
        try {
          await conn.write(new TextEncoder().encode("GET /send-sms HTTP/1.1\r\nHost: x\r\nBad Header Line\r\n\r\n"));
          let text = "";
          const buf = new Uint8Array(4096);
          for (let n = await conn.read(buf); n !== null; n = await conn.read(buf)) text += new TextDecoder().decode(buf.subarray(0, n));
          assertEquals(text.split("\r\n")[0], "HTTP/1.1 400 Bad Request", "status line");
          assertEquals(text.includes('{"error":{"code":"invalid_request","message":"malformed HTTP request"}}'), true, "JSON body");
        } finally {
          try {
            conn.close();
          } catch {
            // closed by the server
          }
        }
      });

      await t.step("POST send arrives at Twilio once and answers 200 with its SID", async () => {
        fake.reset();
        const res = await post(gw, "Your code is 654321");
        assertEquals(res.status, 200, "status");
        const body = await res.json();
        assertEquals(body.status, "sent", "body.status");
        assertEquals(body.provider, "twilio", "body.provider");
        assertEquals(fake.received.map((r) => [r.to, r.from, r.body, r.answeredWith]), [
          ["+14155552671", "+14155550111", "Your code is 654321", 201],
        ], "what Twilio received");
        assertEquals(body.id, `SM${(body.id as string).slice(2)}`, "id is a message SID");
      });

      // Identical to the Node fault suite: status, and how many requests reached Twilio.
      const faults: { name: string; faults: TwilioFault[]; status: number; code?: string; sends: number }[] = [
        { name: "400/21211 → 422", faults: [{ kind: "error", status: 400, code: 21211 }], status: 422, code: "destination_rejected", sends: 1 },
        { name: "429 then 201 → 200", faults: [{ kind: "rateLimit" }], status: 200, sends: 2 },
        { name: "500 → 502 outcome_unknown, not re-sent", faults: [{ kind: "error", status: 500, code: 20500 }], status: 502, code: "outcome_unknown", sends: 1 },
        { name: "503/20429 → 502 outcome_unknown, not retried", faults: [{ kind: "error", status: 503, code: 20429 }], status: 502, code: "outcome_unknown", sends: 1 },
        { name: "201 with a null sid → 502 outcome_unknown", faults: [{ kind: "missingSid" }], status: 502, code: "outcome_unknown", sends: 1 },
        { name: "hang → 504 outcome_unknown inside the deadline", faults: [{ kind: "hang" }], status: 504, code: "outcome_unknown", sends: 1 },
        { name: "reset → 502 outcome_unknown, not re-sent", faults: [{ kind: "reset" }], status: 502, code: "outcome_unknown", sends: 1 },
      ];
      for (const c of faults) {
        await t.step(c.name, async () => {
          fake.reset();
          fake.enqueue(...c.faults);
          const started = performance.now();
          const res = await post(gw);
          const elapsed = performance.now() - started;
          const body = await res.json();
          assertEquals(res.status, c.status, "status");
          if (c.code) assertEquals(body.error?.code, c.code, "error code");
          if (elapsed > SEND_TIMEOUT_MS + DEADLINE_MARGIN_MS) {
            throw new Error(`answered after ${Math.round(elapsed)} ms; deadline ${SEND_TIMEOUT_MS} ms`);
          }
          await holds(() => fake.received.length === c.sends, SETTLE_MS, `Twilio to have received exactly ${c.sends}`);
        });
      }
    } finally {
      await gateway?.stop();
      await fake.close();
    }
  });

  Deno.test(`gateway under Deno (${entry}): SIGTERM lets the in-flight send finish, then exits 0`, async () => {
    // Twilio takes 600 ms to answer: long enough to signal while the send is in flight.
    const fake = await startFakeTwilio({ latencyMs: 600 });
    let gateway: DenoGateway | undefined;
    try {
      gateway = await startGateway(twilioEnv(fake, 2500), entry);
      // A request first, so the in-flight one can ride a kept-alive connection (the case deno#35609 drops).
      const warm = await fetch(`${gateway.url}/healthz`);
      assertEquals(warm.status, 200, "healthz");
      await warm.body?.cancel();

      const inFlight = post(gateway);
      await until(() => fake.received.length === 1, 5000, "the send to reach Twilio");
      let settled = false;
      void inFlight.then(() => (settled = true), () => (settled = true));
      gateway.kill("SIGTERM");
      // Stop accepting: a new connection is refused while the in-flight send is still running.
      const refusedBy = Date.now() + 500;
      let refused = false;
      while (!refused && Date.now() < refusedBy) {
        try {
          (await Deno.connect({ hostname: "127.0.0.1", port: Number(new URL(gateway.url).port) })).close();
          await new Promise((resolve) => setTimeout(resolve, 10));
        } catch (err) {
          refused = err instanceof Deno.errors.ConnectionRefused;
        }
      }
      assertEquals({ refused, settled }, { refused: true, settled: false }, "new connections refused during the drain");
      const res = await inFlight;
      assertEquals(res.status, 200, "in-flight status");
      assertEquals((await res.json()).status, "sent", "in-flight body");

      const status = await within(gateway.exited, 10_000, "exit after SIGTERM");
      assertEquals(status.code, 0, "exit code");
      assertEquals(
        gateway.logs.some((l) => l.message === "signal received" && l.signal === "SIGTERM"),
        true,
        "logged the signal",
      );
    } finally {
      await gateway?.stop();
      await fake.close();
    }
  });
}
