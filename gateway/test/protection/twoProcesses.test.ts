/**
 * Two gateway processes sharing one real redis-server, as two Cloud Run instances share Memorystore (issue 11):
 * each is `gateway/src/main.ts` with its own environment (REDIS_URL, the same PROTECTION_SECRET), started as
 * production starts it. A duplicate sent to each is sent once; the per-number limit is counted across both.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startFakeTwilio, type FakeTwilio } from "../../../scripts/emulators/twilio.ts";
import { loopbackGatewayEnv, sourceCommand, startServer, type Started } from "../../../scripts/processes.ts";
import { startRedisServer, type RedisServer } from "../../../scripts/redisServer.ts";
import { ACCOUNT_SID, API_KEY, AUTH_TOKEN } from "../support.ts";
import { describeWithRedis } from "./support.ts";

const SECRET = "two-processes-protection-secret-0123456789";
const PHONE = "+14155552671";
const code = (n: number) => `Your Acme verification code is: ${String(n).padStart(6, "0")}`;

interface Answer {
  status: number;
  retryAfter: string | null;
  body: Record<string, unknown>;
}

describeWithRedis("two gateway processes sharing one Redis", () => {
  let redis: RedisServer;
  let fake: FakeTwilio;
  let gateways: Started[] = [];

  beforeAll(async () => {
    [redis, fake] = await Promise.all([startRedisServer(), startFakeTwilio()]);
    const env = loopbackGatewayEnv(
      fake.url,
      { apiKey: API_KEY, accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN },
      { REDIS_URL: redis.url, PROTECTION_SECRET: SECRET, RATE_LIMIT_PER_NUMBER: "3/10m" },
    );
    gateways = await Promise.all([startServer(sourceCommand("node"), env), startServer(sourceCommand("node"), env)]);
  }, 60_000);
  afterAll(async () => {
    await Promise.all(gateways.map((g) => g.stop()));
    await fake?.close();
    await redis?.stop();
  });
  beforeEach(() => fake.reset());

  async function send(i: number, message: string, phone = PHONE): Promise<Answer> {
    const res = await fetch(`http://127.0.0.1:${gateways[i]!.ready.port}/send-sms`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-API-Key": API_KEY },
      body: JSON.stringify({ phone_number: phone, sender_id: "", message }),
    });
    return { status: res.status, retryAfter: res.headers.get("retry-after"), body: (await res.json()) as Record<string, unknown> };
  }

  it("both start shared: 'listening' and /health say so", async () => {
    for (const gw of gateways) {
      expect(gw.ready.protection).toEqual({ state: "shared", dedupeWindowS: 60 });
      const res = await fetch(`http://127.0.0.1:${gw.ready.port}/health`);
      expect(await res.json()).toEqual({ status: "ok", state: "shared" });
    }
  });

  it("a duplicate sent to each: one send, both answers carry its id", async () => {
    const first = await send(0, code(1), "+14155550101");
    const second = await send(1, code(1), "+14155550101");
    expect(fake.received).toHaveLength(1);
    expect(first).toMatchObject({ status: 200, body: { status: "sent", id: fake.created[0]!.sid } });
    expect(second).toMatchObject({ status: 200, body: { status: "sent", id: fake.created[0]!.sid, deduplicated: true } });
  });

  it("the same SMS at both at once, the first still in flight: one send, the other waits for its id", async () => {
    fake.enqueue({ kind: "slow", ms: 300 });
    const answers = await Promise.all([send(0, code(2), "+14155550102"), send(1, code(2), "+14155550102")]);
    expect(fake.received).toHaveLength(1);
    expect(answers.map((a) => [a.status, a.body.id])).toEqual([
      [200, fake.created[0]!.sid],
      [200, fake.created[0]!.sid],
    ]);
    expect(answers.filter((a) => a.body.deduplicated === true)).toHaveLength(1);
  });

  it("RATE_LIMIT_PER_NUMBER=3/10m counted across both: the 4th SMS to the number is refused, wherever it lands", async () => {
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await send(i % 2, code(10 + i), "+14155550103"));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 429]);
    expect(answers[3]!.body).toMatchObject({ error: { code: "rate_limited" } });
    expect(Number(answers[3]!.retryAfter)).toBeGreaterThan(500);
    expect(fake.received).toHaveLength(3);
  });
});
