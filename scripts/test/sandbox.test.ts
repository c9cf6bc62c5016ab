import { describe, expect, it } from "vitest";
import { runSandbox } from "../sandbox/run.ts";
import { npmRun } from "./support/run-cli.ts";

function npmRunSandbox(args: string[]) {
  return npmRun("sandbox", args);
}

describe("npm run sandbox", () => {
  it.each([["node"], ["deno"]])(
    "exits 0 and shows the SMS the Twilio emulator received (gateway on %s)",
    async (runtime) => {
      const run = await npmRunSandbox(["--runtime", runtime]);
      expect(run.stderr).toBe("");
      expect(run.code).toBe(0);
      expect(run.stdout).toContain(`Gateway on ${runtime === "deno" ? "Deno" : "Node"}`);
      expect(run.stdout).toMatch(/register │ ✔ confirmed/);
      expect(run.stdout).toContain("To:   +14155550123");
      expect(run.stdout).toContain("From: +15005550006");
      const body = /Body: Your Sandbox verification code is: (\d{6})\n/.exec(run.stdout);
      expect(body).not.toBeNull();
      // The Twilio emulator's signed StatusCallbacks, through the public URL, verified and logged by the gateway.
      expect(run.stdout).toMatch(/receipt: twilio +sent, US \+1\*{8}23\n/);
      expect(run.stdout).toMatch(/receipt: twilio +delivered after \d+(\.\d+)? s, US \+1\*{8}23\n/);
      // The OTP shows in the emulator's Body only, never in one of the gateway's lines.
      expect(run.stdout.split("\n").filter((l) => l.includes("gateway │") && l.includes(body![1]!))).toEqual([]);
      expect(run.stdout).toContain("✔ sandbox: OTP delivered end to end, and its delivery receipt verified");
      expect(run.stdout).toContain("gateway stopped (exit 0)");
    },
    60_000,
  );

  it("--scenario failover: Twilio refuses, Telnyx sends, every attempt printed", async () => {
    const run = await npmRunSandbox(["--scenario", "failover"]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("SMS_ROUTES: US → twilio, then telnyx");
    expect(run.stdout).toMatch(/attempt 1: twilio +provider_rejected \(21408\), \d+ ms/);
    expect(run.stdout).toMatch(/attempt 2: telnyx +sent, \d+ ms/);
    expect(run.stdout).toContain("the Twilio emulator answered 1 request(s), accepted 0");
    expect(run.stdout).toMatch(/gateway answered 200 after 1 attempt\(s\): \{"status":"sent","provider":"telnyx"/);
    expect(run.stdout).toContain("To:   +14155550123");
    expect(run.stdout).toMatch(/Body: Your Sandbox verification code is: \d{6}\n/);
    expect(run.stdout).toMatch(/receipt: telnyx +delivered after \d+(\.\d+)? s, US \+1\*{8}23\n/);
    expect(run.stdout).not.toMatch(/receipt: twilio/);
    expect(run.stdout).toContain("✔ sandbox: OTP delivered end to end, and its delivery receipt verified");
  }, 60_000);

  it("--scenario retry: the answer is lost, Mosaic retries, the gateway asks Twilio and answers its id: one SMS", async () => {
    const run = await npmRunSandbox(["--scenario", "retry"]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("duplicate suppression on: DEDUPE_WINDOW_S=60, in-memory store");
    const answer = /gateway answered 200 after 2 attempt\(s\): \{"status":"sent","provider":"twilio","id":"(SM[0-9a-f]{32})","deduplicated":true\}/.exec(run.stdout);
    expect(answer).not.toBeNull();
    expect(run.stdout).toContain("POST 1: outcome_unknown — twilio unknown (network)");
    expect(run.stdout).toContain(`POST 2: deduplicated via lookup — no provider attempt, id ${answer![1]}`);
    expect(run.stdout).toContain("the Twilio emulator received 1 send request(s), answered 1 look-up(s), sent 1 SMS");
    expect(run.stdout).toMatch(/Body: Your Sandbox verification code is: \d{6}\n/);
    // The one SMS's receipts, though its answer was lost: one "delivered", not two.
    expect(run.stdout.match(/receipt: twilio +delivered after/g)).toHaveLength(1);
    expect(run.stdout).toContain("✔ sandbox: OTP delivered end to end, and its delivery receipt verified");
  }, 60_000);

  it("exits 2 on an unknown scenario", async () => {
    const run = await npmRunSandbox(["--scenario", "chaos"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--scenario must be send or failover or retry (got "chaos")');
  });

  it("exits 2 on an unknown runtime", async () => {
    const run = await npmRunSandbox(["--runtime", "bun"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--runtime must be node or deno (got "bun")');
  });

  it("reports the failed step and returns 1, stopping what it started", async () => {
    const lines: string[] = [];
    let closed = 0;
    const result = await runSandbox(
      { runtime: "node" },
      {
        out: (l) => lines.push(l),
        startTwilio: async () => ({ url: "http://127.0.0.1:9", messages: () => [], close: async () => void closed++ }),
        showGatewayLogs: false,
      },
    );
    // The gateway starts, registration passes, but the Twilio URL is dead: the gateway cannot deliver.
    expect(result.code).toBe(1);
    expect(lines.join("\n")).toMatch(/✘ sandbox failed while trying to send an OTP: the gateway did not accept the SMS \(5\d\d\)/);
    expect(closed).toBe(1);
    expect(lines.join("\n")).toContain("gateway stopped (exit 0)");
  }, 60_000);
});
