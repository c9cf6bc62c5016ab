import { execFile } from "node:child_process";
import { ExitCode, RegisterError } from "./exit-codes.ts";

export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a program without a shell (arguments are never interpolated into a command string). */
export type CommandRunner = (file: string, args: readonly string[]) => Promise<CommandResult>;

export const runCommand: CommandRunner = (file, args) =>
  new Promise((resolve) => {
    execFile(file, [...args], { maxBuffer: 10 * 1024 * 1024, timeout: 120_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : 127;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) || (error?.message ?? "") });
    });
  });

/**
 * Stack output names searched, in order. This repository's stack (infra/index.ts) exports `url` (the full
 * send-sms URI, the balancer's `https://{domain}{path}` in multi-region mode) and `apiKeySecretVersion` (the key
 * itself stays in Secret Manager: no output holds it); `apiKey` and the other names are read from stacks of other
 * programs that export them.
 */
export const STACK_OUTPUTS = {
  gatewayUri: ["url", "gatewayUri", "gatewayUrl"],
  apiKey: ["apiKey", "gatewayApiKey"],
  apiKeySecret: ["apiKeySecretVersion", "gatewayApiKeySecretVersion", "apiKeySecretVersionName"],
} as const;

export interface StackValues {
  readonly gatewayUri?: string;
  readonly apiKey?: string;
  readonly apiKeySecret?: string;
}

function pick(outputs: Record<string, unknown>, names: readonly string[]): string | undefined {
  for (const name of names) {
    const value = outputs[name];
    if (typeof value === "string" && value.trim() !== "") return value.trim();
  }
  return undefined;
}

export function pickStackValues(outputs: Record<string, unknown>): StackValues {
  const gatewayUri = pick(outputs, STACK_OUTPUTS.gatewayUri);
  const apiKey = pick(outputs, STACK_OUTPUTS.apiKey);
  const apiKeySecret = pick(outputs, STACK_OUTPUTS.apiKeySecret);
  return {
    ...(gatewayUri === undefined ? {} : { gatewayUri }),
    ...(apiKey === undefined ? {} : { apiKey }),
    ...(apiKeySecret === undefined ? {} : { apiKeySecret }),
  };
}

/** `pulumi stack output --json --show-secrets [--stack name]`; stdout holds secrets and is never printed. */
export async function readStackOutputs(run: CommandRunner, stack?: string): Promise<StackValues> {
  const args = ["stack", "output", "--json", "--show-secrets", ...(stack === undefined ? [] : ["--stack", stack])];
  const result = await run("pulumi", args);
  if (result.code !== 0) {
    const firstLine = result.stderr.split("\n").find((l) => l.trim() !== "") ?? `exit ${result.code}`;
    throw new RegisterError(
      ExitCode.BadInput,
      "input",
      `pulumi stack output failed: ${firstLine.trim()}`,
      "install the pulumi CLI, log in, and select the stack (or pass --from-stack NAME)",
    );
  }
  let outputs: unknown;
  try {
    outputs = JSON.parse(result.stdout);
  } catch {
    outputs = undefined;
  }
  if (!outputs || typeof outputs !== "object" || Array.isArray(outputs)) {
    throw new RegisterError(ExitCode.BadInput, "input", "pulumi stack output did not print a JSON object");
  }
  return pickStackValues(outputs as Record<string, unknown>);
}
