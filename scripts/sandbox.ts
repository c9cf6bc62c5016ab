/**
 * `npm run sandbox [-- --runtime node|deno] [--scenario send|failover|retry]`: the whole flow offline, on loopback,
 * with no accounts. Provider emulators → Mosaic emulator → gateway (child process) → `npm run register` → one OTP →
 * the SMS as the provider received it → its delivery receipts, signed by the emulator and verified by the gateway
 * behind a stand-in for Cloud Run's front end (PUBLIC_BASE_URL). `--scenario failover` routes US numbers to Twilio,
 * then Telnyx, with Twilio refusing: every attempt is printed, then Telnyx's receipts. `--scenario retry`: Twilio
 * takes the SMS but the answer is lost, Mosaic retries, and the gateway recognises the repeat (it asks Twilio): one
 * SMS, one set of receipts. Exits 0 when the SMS arrived and its delivered receipt was logged, 1 when a step failed,
 * 2 on a bad flag.
 */
import { startSandboxTelnyx, startSandboxTwilio } from "./sandbox/providers.ts";
import { runSandbox, SCENARIOS, type Scenario } from "./sandbox/run.ts";
import type { Runtime } from "./sandbox/processes.ts";

const USAGE = "usage: npm run sandbox [-- --runtime node|deno] [--scenario send|failover|retry]";

interface Flags {
  runtime: Runtime;
  scenario: Scenario;
}

function parseFlags(argv: readonly string[]): Flags | "help" | { error: string } {
  const flags: Flags = { runtime: "node", scenario: "send" };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--help" || arg === "-h") return "help";
    const [name, inline] = arg.startsWith("--") && arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
    if (name !== "--runtime" && name !== "--scenario") return { error: `unknown argument "${arg}"` };
    const value = inline ?? argv[++i];
    if (name === "--runtime") {
      if (value !== "node" && value !== "deno") return { error: `--runtime must be node or deno (got "${value ?? ""}")` };
      flags.runtime = value;
    } else {
      if (!(SCENARIOS as readonly string[]).includes(value ?? "")) {
        return { error: `--scenario must be ${SCENARIOS.join(" or ")} (got "${value ?? ""}")` };
      }
      flags.scenario = value as Scenario;
    }
  }
  return flags;
}

const parsed = parseFlags(process.argv.slice(2));
if (parsed === "help") {
  process.stdout.write(`${USAGE}\n`);
} else if ("error" in parsed) {
  process.stderr.write(`${parsed.error}\n${USAGE}\n`);
  process.exitCode = 2;
} else {
  const result = await runSandbox(parsed, {
    out: (line) => process.stdout.write(`${line}\n`),
    startTwilio: startSandboxTwilio,
    startTelnyx: startSandboxTelnyx,
  });
  process.exitCode = result.code;
}
