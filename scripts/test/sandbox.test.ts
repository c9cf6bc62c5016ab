import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../sandbox/processes.ts";
import { runSandbox } from "../sandbox/run.ts";

function npmRunSandbox(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("npm", ["run", "--silent", "sandbox", "--", ...args], { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
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
      expect(run.stdout).toContain("✔ sandbox: OTP delivered end to end");
      expect(run.stdout).toContain("gateway stopped (exit 0)");
    },
    60_000,
  );

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
