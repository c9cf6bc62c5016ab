/**
 * `npm run sandbox [-- --runtime node|deno]`: the whole flow offline, on loopback, with no accounts.
 * Twilio emulator → Mosaic emulator → gateway (child process) → `npm run register` → one OTP → the SMS as
 * Twilio received it. Exits 0 when the SMS arrived, 1 when a step failed, 2 on a bad flag.
 */
import { runSandbox } from "./sandbox/run.ts";
import { startSandboxTwilio } from "./sandbox/twilio.ts";
import type { Runtime } from "./sandbox/processes.ts";

const USAGE = "usage: npm run sandbox [-- --runtime node|deno]";

function parseRuntime(argv: readonly string[]): Runtime | "help" | { error: string } {
  let runtime: Runtime = "node";
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--help" || arg === "-h") return "help";
    const value = arg === "--runtime" ? argv[++i] : arg.startsWith("--runtime=") ? arg.slice("--runtime=".length) : undefined;
    if (value === undefined) return { error: `unknown argument "${arg}"` };
    if (value !== "node" && value !== "deno") return { error: `--runtime must be node or deno (got "${value}")` };
    runtime = value;
  }
  return runtime;
}

const parsed = parseRuntime(process.argv.slice(2));
if (parsed === "help") {
  process.stdout.write(`${USAGE}\n`);
} else if (typeof parsed === "object") {
  process.stderr.write(`${parsed.error}\n${USAGE}\n`);
  process.exitCode = 2;
} else {
  const result = await runSandbox({ runtime: parsed }, { out: (line) => process.stdout.write(`${line}\n`), startTwilio: startSandboxTwilio });
  process.exitCode = result.code;
}
