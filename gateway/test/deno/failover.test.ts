/**
 * Routing and failover under Deno: SMS_ROUTES across Twilio (SDK), Telnyx and SMC (the shared transport), each
 * against its loopback fake, counting the send requests EACH fake received. Deno's node:http re-sends a POST whose
 * reused keep-alive socket closes early; here a reset or a hang at Telnyx or SMC — on a socket kept alive by the
 * step before — must still reach that fake exactly once. The full table runs on Node (failover.test.ts).
 */
import { startFakeSmc, type FakeSmc } from "../../../scripts/emulators/smc.ts";
import { startFakeTelnyx, type FakeTelnyx } from "../../../scripts/emulators/telnyx.ts";
import { startFakeTwilio, type FakeTwilio } from "../../../scripts/emulators/twilio.ts";
import { assertEquals, holds, PROTECTION_OFF, SETTLE_MS } from "./helpers.ts";
import { ENTRIES, startGateway, type DenoGateway, type Entry } from "./startGateway.ts";

const API_KEY = "deno-failover-gateway-key-01";
const SEND_TIMEOUT_MS = 1200;
const DEADLINE_MARGIN_MS = 400;
const TELNYX_KEY = "KEYdeno-failover";
const SMC_SECRET = "deno-smc-client-secret";
const ROUTES = {
  US: [{ provider: "twilio" }, { provider: "telnyx" }, { provider: "smc" }],
  DE: [{ provider: "telnyx", from: "+4915100000000" }],
  "*": [{ provider: "smc" }],
};

interface Fakes {
  twilio: FakeTwilio;
  telnyx: FakeTelnyx;
  smc: FakeSmc;
}

function env(f: Fakes, failoverOnUnknown: boolean): Record<string, string> {
  return {
    GATEWAY_API_KEY: API_KEY,
    SEND_TIMEOUT_MS: String(SEND_TIMEOUT_MS),
    ...PROTECTION_OFF,
    SMS_ROUTES: JSON.stringify(ROUTES),
    FAILOVER_ON_UNKNOWN: String(failoverOnUnknown),
    TWILIO_ACCOUNT_SID: `AC${"0123456789abcdef".repeat(2)}`,
    TWILIO_AUTH_TOKEN: "deno-failover-auth-token",
    TWILIO_FROM_NUMBER: "+14155550111",
    TWILIO_API_BASE_URL: f.twilio.url,
    TELNYX_API_KEY: TELNYX_KEY,
    TELNYX_FROM_NUMBER: "+14155550122",
    TELNYX_API_BASE_URL: f.telnyx.url,
    SMC_SUBDOMAIN: "mc-deno-test",
    SMC_CLIENT_ID: "deno-smc-client",
    SMC_CLIENT_SECRET: SMC_SECRET,
    SMC_MESSAGE_ID: "MzA6Nzg6MA",
    SMC_AUTH_BASE_URL: f.smc.url,
  };
}

async function post(gateway: DenoGateway, phone = "+14155552671"): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${gateway.url}/send-sms`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-API-Key": API_KEY },
    body: JSON.stringify({ phone_number: phone, sender_id: "", message: "Your code is 246810" }),
  });
  return { status: res.status, body: await res.json() };
}

function counts(f: Fakes) {
  return { twilio: f.twilio.received.length, telnyx: f.telnyx.received.length, smc: f.smc.sends.length };
}

function reset(f: Fakes) {
  f.twilio.reset();
  f.telnyx.reset();
  f.smc.reset();
}

interface Step {
  name: string;
  faults: (f: Fakes) => void;
  status: number;
  /** `provider` of a 200, or the error code. */
  answer: string;
  sends: { twilio: number; telnyx: number; smc: number };
  phone?: string;
}

const STEPS: Step[] = [
  { name: "no fault: Twilio sends", faults: () => {}, status: 200, answer: "twilio", sends: { twilio: 1, telnyx: 0, smc: 0 } },
  {
    name: "Twilio refuses (21408) → Telnyx sends",
    faults: (f) => f.twilio.enqueue({ kind: "error", status: 400, code: 21408 }),
    status: 200,
    answer: "telnyx",
    sends: { twilio: 1, telnyx: 1, smc: 0 },
  },
  {
    name: "Twilio and Telnyx refuse → SMC sends (token, then send)",
    faults: (f) => {
      f.twilio.enqueue({ kind: "error", status: 400, code: 21606 });
      f.telnyx.enqueue({ kind: "error", status: 400, code: "40305" });
    },
    status: 200,
    answer: "smc",
    sends: { twilio: 1, telnyx: 1, smc: 1 },
  },
  {
    name: "Twilio resets after the request → 502 outcome_unknown, nobody else tries",
    faults: (f) => f.twilio.enqueue({ kind: "reset" }),
    status: 502,
    answer: "outcome_unknown",
    sends: { twilio: 1, telnyx: 0, smc: 0 },
  },
  {
    name: "Twilio refuses, Telnyx resets on a kept-alive socket → 502, Telnyx received it once",
    faults: (f) => {
      f.twilio.enqueue({ kind: "error", status: 400, code: 21606 });
      f.telnyx.enqueue({ kind: "reset" });
    },
    status: 502,
    answer: "outcome_unknown",
    sends: { twilio: 1, telnyx: 1, smc: 0 },
  },
  {
    name: "Twilio and Telnyx refuse, SMC resets on a kept-alive socket → 502, SMC received it once",
    faults: (f) => {
      f.twilio.enqueue({ kind: "error", status: 400, code: 21606 });
      f.telnyx.enqueue({ kind: "error", status: 400, code: "40305" });
      f.smc.sendFaults.enqueue({ kind: "reset" });
    },
    status: 502,
    answer: "outcome_unknown",
    sends: { twilio: 1, telnyx: 1, smc: 1 },
  },
  {
    name: "Twilio refuses, Telnyx hangs → 504 outcome_unknown inside the deadline, Telnyx received it once",
    faults: (f) => {
      f.twilio.enqueue({ kind: "error", status: 400, code: 21606 });
      f.telnyx.enqueue({ kind: "hang" });
    },
    status: 504,
    answer: "outcome_unknown",
    sends: { twilio: 1, telnyx: 1, smc: 0 },
  },
  {
    name: "Twilio: opted out (21610) → 422, nobody else tries",
    faults: (f) => f.twilio.enqueue({ kind: "error", status: 400, code: 21610 }),
    status: 422,
    answer: "destination_rejected",
    sends: { twilio: 1, telnyx: 0, smc: 0 },
  },
  {
    name: "every provider refuses → 502 provider_rejected",
    faults: (f) => {
      f.twilio.enqueue({ kind: "error", status: 400, code: 21606 });
      f.telnyx.enqueue({ kind: "error", status: 400, code: "40305" });
      f.smc.sendFaults.enqueue({ kind: "error", status: 400 });
    },
    status: 502,
    answer: "provider_rejected",
    sends: { twilio: 1, telnyx: 1, smc: 1 },
  },
  { name: "a German number takes DE: Telnyx", faults: () => {}, status: 200, answer: "telnyx", sends: { twilio: 0, telnyx: 1, smc: 0 }, phone: "+4915112345678" },
  { name: "a French number takes *: SMC", faults: () => {}, status: 200, answer: "smc", sends: { twilio: 0, telnyx: 0, smc: 1 }, phone: "+33612345678" },
];

for (const entry of Object.keys(ENTRIES) as Entry[]) {
  Deno.test(`routing and failover under Deno (${entry}): requests per provider`, async (t) => {
    const fakes: Fakes = {
      twilio: await startFakeTwilio(),
      telnyx: await startFakeTelnyx({ apiKey: TELNYX_KEY }),
      smc: await startFakeSmc({ clientId: "deno-smc-client", clientSecret: SMC_SECRET, messageId: "MzA6Nzg6MA" }),
    };
    const gateways: DenoGateway[] = [];
    /**
     * A gateway that has sent once. Its first send loads the Twilio SDK (production loads it 250 ms after
     * listening); on a loaded machine that can outlast Twilio's share of this suite's deadline, and the chain would
     * rightly fail over to Telnyx. An uncounted first send loads it, as a running instance has.
     */
    const started = async (environment: Record<string, string>): Promise<DenoGateway> => {
      const gateway = await startGateway(environment, entry);
      gateways.push(gateway);
      const warm = await post(gateway);
      if (warm.status !== 200) throw new Error(`warm-up send answered ${warm.status}`);
      return gateway;
    };
    try {
      const gw = await started(env(fakes, false));
      for (const step of STEPS) {
        await t.step(step.name, async () => {
          reset(fakes);
          step.faults(fakes);
          const started = performance.now();
          const { status, body } = await post(gw, step.phone);
          const elapsed = performance.now() - started;
          assertEquals(status, step.status, "status");
          const answer = status === 200 ? body.provider : (body.error as { code: string }).code;
          assertEquals(answer, step.answer, "answer");
          if (elapsed > SEND_TIMEOUT_MS + DEADLINE_MARGIN_MS) throw new Error(`answered after ${Math.round(elapsed)} ms`);
          await holds(
            () => JSON.stringify(counts(fakes)) === JSON.stringify(step.sends),
            SETTLE_MS,
            () => `sends ${JSON.stringify(step.sends)}, got ${JSON.stringify(counts(fakes))}`,
          );
        });
      }

      await t.step("50 concurrent SMC sends share one token request", async () => {
        reset(fakes);
        fakes.smc.revokeTokens(); // the gateway's cached token now draws a 401: every send needs the new one
        const answers = await Promise.all(Array.from({ length: 50 }, () => post(gw, "+33612345678")));
        assertEquals(answers.filter((a) => a.status === 200).length, 50, "answered 200");
        assertEquals(fakes.smc.tokenRequests.length, 1, "token requests");
        assertEquals(fakes.smc.sends.filter((s) => s.answeredWith === 202).length, 50, "accepted sends");
      });

      const failover = await started(env(fakes, true));
      await t.step("FAILOVER_ON_UNKNOWN: Twilio answers 500 → Telnyx sends", async () => {
        reset(fakes);
        fakes.twilio.enqueue({ kind: "error", status: 500, code: 20500 });
        const { status, body } = await post(failover);
        assertEquals([status, body.provider], [200, "telnyx"], "answer");
        await holds(() => JSON.stringify(counts(fakes)) === JSON.stringify({ twilio: 1, telnyx: 1, smc: 0 }), SETTLE_MS, "one send each at Twilio and Telnyx");
      });

      const line = gw.logs.find((l) => l.event === "sms.send" && Array.isArray(l.attempts) && (l.attempts as unknown[]).length === 3);
      assertEquals(line !== undefined, true, "an sms.send line lists three attempts");
      assertEquals(JSON.stringify(gw.logs).includes("246810"), false, "the text in a log line");
    } finally {
      for (const g of gateways) await g.stop();
      await Promise.all([fakes.twilio.close(), fakes.telnyx.close(), fakes.smc.close()]);
    }
  });
}
