/**
 * SIGTERM on Node, with the real process: Cloud Run sends SIGTERM and SIGKILLs 10 s later, so the send that is
 * in flight must still be answered, new connections refused, and the process must exit 0 by itself.
 * The same check under Deno lives in gateway/test/deno/gateway.test.ts.
 */
import http from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { startFakeTwilio, type FakeTwilio } from "../../scripts/emulators/twilio.ts";
import { startGateway, type RunningGateway } from "../../scripts/sandbox/processes.ts";

const API_KEY = "shutdown-test-gateway-key-01";

async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A request on a new TCP connection (no pooled socket), to see whether the gateway still accepts. */
function freshConnection(port: number): Promise<"accepted" | "refused"> {
  return new Promise((resolve) => {
    const req = http.get({ host: "127.0.0.1", port, path: "/healthz", agent: false }, (res) => {
      res.resume();
      resolve("accepted");
    });
    req.setTimeout(2000, () => req.destroy());
    req.on("error", () => resolve("refused"));
  });
}

describe("gateway on Node: SIGTERM", () => {
  let fake: FakeTwilio | undefined;
  let gateway: RunningGateway | undefined;
  afterEach(async () => {
    await gateway?.stop(1000);
    await fake?.close();
  });

  it("answers the in-flight send with 200, refuses new connections, and exits 0", async () => {
    // Twilio takes 600 ms: long enough to signal while the send is in flight.
    fake = await startFakeTwilio({ latencyMs: 600 });
    const logs: Record<string, unknown>[] = [];
    gateway = await startGateway(
      "node",
      {
        GATEWAY_API_KEY: API_KEY,
        SMS_PROVIDER: "twilio",
        TWILIO_ACCOUNT_SID: `AC${"0123456789abcdef".repeat(2)}`,
        TWILIO_AUTH_TOKEN: "shutdown-test-auth-token",
        TWILIO_FROM_NUMBER: "+14155550111",
        TWILIO_API_BASE_URL: fake.url,
        SEND_TIMEOUT_MS: "2500",
      },
      (entry) => logs.push(entry),
    );
    const url = `http://127.0.0.1:${gateway.port}`;
    // A request first, so the in-flight one can ride a kept-alive connection.
    expect((await fetch(`${url}/healthz`)).status).toBe(200);

    const inFlight = fetch(`${url}/send-sms`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-API-Key": API_KEY },
      body: JSON.stringify({ phone_number: "+14155552671", sender_id: "", message: "Your code is 123456" }),
    });
    await until(() => fake!.received.length === 1, 5000, "the send to reach Twilio");
    const started = Date.now();
    const exitCode = gateway.stop(10_000); // SIGTERM; SIGKILL only if it has not exited 10 s later
    await until(() => logs.some((l) => l.message === "signal received"), 5000, "the gateway to log the signal");

    expect(await freshConnection(gateway.port)).toBe("refused");
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: "sent", provider: "twilio" });
    expect(await exitCode).toBe(0);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(fake.received).toHaveLength(1);
  });
});
