import type { ExitCode, Step } from "./exit-codes.ts";

export type StepStatus = "ok" | "failed" | "skipped";

export interface StepRecord {
  readonly step: Step;
  readonly status: StepStatus;
  readonly detail: string;
  readonly ms?: number;
}

const STEP_ORDER: readonly Step[] = ["input", "token", "preflight", "register", "confirmed", "revert"];
const WIDTH = Math.max(...STEP_ORDER.map((s) => s.length));

/** One human progress line per step, e.g. `✔ token      got a Bearer token (41 ms)`. */
export function formatProgress(record: StepRecord): string {
  const mark = record.status === "ok" ? "✔" : record.status === "failed" ? "✘" : "–";
  const ms = record.ms === undefined ? "" : ` (${Math.round(record.ms)} ms)`;
  return `${mark} ${record.step.padEnd(WIDTH)}  ${record.detail}${ms}`;
}

export function formatFailure(message: string, hint: string | undefined, exitCode: ExitCode): string {
  return hint === undefined ? `error: ${message} [exit ${exitCode}]` : `error: ${message}\nhint: ${hint} [exit ${exitCode}]`;
}

export interface JsonResult {
  readonly ok: boolean;
  readonly exit_code: ExitCode;
  readonly action: "register" | "revert" | "dry-run" | "unknown";
  readonly base_url?: string;
  readonly gateway_uri?: string;
  readonly steps: readonly StepRecord[];
  readonly error?: { readonly step: Step; readonly message: string; readonly hint?: string };
}

export function formatJson(result: JsonResult): string {
  return JSON.stringify(result);
}

/**
 * Replaces every known secret value with "[redacted]". Applied to every line the CLI writes, as a last guard:
 * a Mosaic error body or a gateway reply could echo a key back.
 */
export function redact(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  for (const secret of secrets) {
    // Very short values would redact ordinary words; no real key, secret or token is that short.
    if (secret && secret.length >= 4) out = out.split(secret).join("[redacted]");
  }
  return out;
}
