/**
 * Duplicate suppression and the abuse limits through the whole gateway running under Deno (issue 11: "both
 * runtimes"): the sources and the bundle on the default in-memory store, then two bundled gateways sharing one
 * real redis-server. The unknown-outcome case runs the Twilio look-up (the SDK's Messages list) on Deno's
 * node:http. The full suite runs on Node (gateway/test/protection/); this shows the same answers on Deno.
 */
import { startFakeTwilio, type FakeTwilio } from "../../../scripts/emulators/twilio.ts";
import { onCi, redisServerAvailability, startRedisServer } from "../../../scripts/redisServer.ts";
import { assertEquals } from "./helpers.ts";
import { ENTRIES, startGateway, type DenoGateway, type Entry } from "./startGateway.ts";

const API_KEY = "deno-protection-gateway-key-01";
const SECRET = "deno-protection-gateway-secret-0123456789";

function env(fake: FakeTwilio, extra: Record<string, string> = {}): Record<string, string> {
  return {
    GATEWAY_API_KEY: API_KEY,
    SMS_PROVIDER: "twilio",
    TWILIO_ACCOUNT_SID: `AC${"0123456789abcdef".repeat(2)}`,
    TWILIO_AUTH_TOKEN: "deno-protection-auth-token",
    TWILIO_FROM_NUMBER: "+14155550111",
    TWILIO_API_BASE_URL: fake.url,
    SEND_TIMEOUT_MS: "1500",
    ...extra,
  };
}

async function send(gw: DenoGateway, phone: string, message: string) {
  const res = await fetch(`${gw.url}/send-sms`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-API-Key": API_KEY },
    body: JSON.stringify({ phone_number: phone, sender_id: "", message }),
  });
  return { status: res.status, retryAfter: res.headers.get("retry-after"), body: (await res.json()) as Record<string, unknown> };
}

async function health(gw: DenoGateway): Promise<unknown> {
  return (await fetch(`${gw.url}/health`)).json();
}

for (const entry of Object.keys(ENTRIES) as Entry[]) {
  Deno.test(`protection under Deno (${entry}), in-memory store: dedupe, limits, allow-list, an unknown outcome resolved`, async (t) => {
    const fake = await startFakeTwilio();
    let gw: DenoGateway | undefined;
    try {
      gw = await startGateway(env(fake, { RATE_LIMIT_PER_NUMBER: "2/10m", ALLOWED_COUNTRIES: "US" }), entry);
      const g = gw;

      await t.step("/health: state local", async () => {
        assertEquals(await health(g), { status: "ok", state: "local" }, "health");
      });

      await t.step("a retry storm (×3): one send, three 200s with one id", async () => {
        fake.reset();
        const answers = [];
        for (let i = 0; i < 3; i++) answers.push(await send(g, "+14155552671", "Your code is 111111"));
        const id = fake.created[0]?.sid;
        assertEquals(answers.map((a) => [a.status, a.body.id, a.body.deduplicated ?? false]), [[200, id, false], [200, id, true], [200, id, true]], "answers");
        assertEquals(fake.received.length, 1, "sends");
      });

      await t.step("RATE_LIMIT_PER_NUMBER=2/10m: the 3rd SMS to the number is 429 with Retry-After", async () => {
        fake.reset();
        const answers = [];
        for (const code of ["222222", "333333", "444444"]) answers.push(await send(g, "+14155552672", `Your code is ${code}`));
        assertEquals(answers.map((a) => a.status), [200, 200, 429], "statuses");
        assertEquals((answers[2]!.body.error as { code: string }).code, "rate_limited", "code");
        assertEquals(Number(answers[2]!.retryAfter) > 500, true, "Retry-After in seconds, about 10 minutes");
        assertEquals(fake.received.length, 2, "sends");
      });

      await t.step("ALLOWED_COUNTRIES=US: a GB number is 403, nothing sent", async () => {
        fake.reset();
        const answer = await send(g, "+442079460958", "Your code is 555555");
        assertEquals([answer.status, (answer.body.error as { code: string }).code], [403, "country_not_allowed"], "answer");
        assertEquals(fake.received.length, 0, "sends");
      });

      await t.step("a reset after the request, then the retry: Twilio's list finds it, one SMS", async () => {
        fake.reset();
        fake.enqueue({ kind: "reset" });
        const first = await send(g, "+14155552673", "Your code is 666666");
        const retry = await send(g, "+14155552673", "Your code is 666666");
        assertEquals([first.status, (first.body.error as { code: string }).code], [502, "outcome_unknown"], "first answer");
        assertEquals(retry, { status: 200, retryAfter: null, body: { status: "sent", provider: "twilio", id: fake.created[0]?.sid, deduplicated: true } }, "retry");
        assertEquals([fake.received.length, fake.created.length, fake.lists.length], [1, 1, 1], "POSTs, SMS, list reads");
      });

      const line = g.logs.find((l) => l.event === "sms.send" && l.outcome === "rate_limited");
      assertEquals(line?.limit, "per_number", "the sms.send line names the limit");
      assertEquals(JSON.stringify(g.logs).includes("+14155552672"), false, "a full number in a log line");
    } finally {
      await gw?.stop();
      await fake.close();
    }
  });
}

const availability = redisServerAvailability();
const ci = onCi(Deno.env.toObject());
if (!availability.available && !ci) {
  console.warn(`\n!!! SKIPPED two Deno gateways on one Redis: ${availability.reason}. It runs on CI. !!!\n`);
}

Deno.test({
  name: "two bundled gateways under Deno sharing one real Redis: one send for a duplicate, one per-number count",
  ignore: !availability.available && !ci,
  async fn() {
    if (!availability.available) throw new Error(`CI must have redis-server: ${availability.reason}`);
    const [redis, fake] = await Promise.all([startRedisServer(), startFakeTwilio()]);
    const gateways: DenoGateway[] = [];
    try {
      const shared = env(fake, { REDIS_URL: redis.url, PROTECTION_SECRET: SECRET, RATE_LIMIT_PER_NUMBER: "3/10m" });
      gateways.push(await startGateway(shared, "bundle"), await startGateway(shared, "bundle"));
      const [a, b] = gateways as [DenoGateway, DenoGateway];
      assertEquals([await health(a), await health(b)], [{ status: "ok", state: "shared" }, { status: "ok", state: "shared" }], "health");

      const first = await send(a, "+14155552674", "Your code is 777777");
      const repeat = await send(b, "+14155552674", "Your code is 777777");
      assertEquals(fake.received.length, 1, "sends for a duplicate sent to each");
      assertEquals([first.body.id, repeat.body.id, repeat.body.deduplicated], [fake.created[0]?.sid, fake.created[0]?.sid, true], "ids");

      fake.reset();
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await send(gateways[i % 2]!, "+14155552675", `Your code is 88888${i}`)).status);
      assertEquals(statuses, [200, 200, 200, 429], "per-number limit across both");
      assertEquals(fake.received.length, 3, "sends");
    } finally {
      for (const g of gateways) await g.stop();
      await fake.close();
      await redis.stop();
    }
  },
});
