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

/**
 * The --json line, with every string redacted before it is escaped: JSON.stringify would otherwise add a layer of
 * escaping (a quote in a secret echoed as `\"` becomes `\\\"`) that the line-level redaction cannot see through.
 */
export function formatJson(result: JsonResult, secrets: readonly (string | undefined)[]): string {
  return JSON.stringify(result, (_key, value: unknown) => (typeof value === "string" ? redact(value, secrets) : value));
}

/**
 * Replaces every known secret value with "[redacted]". Applied to every line the CLI writes, as a last guard:
 * a Mosaic error body or a gateway reply could echo a key back — raw, URL-encoded (a form or query echoed, `%2B`
 * or `%2b`, a space as `+`) or JSON-escaped (`\"`, `\u00e9`, `\/`), and the CLI's own --json line escapes what it
 * prints (issue 8, item 9). Each character of a secret matches any of its encodings, so mixed forms are caught too.
 */
export function redact(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  for (const secret of secrets) {
    // Very short values would redact ordinary words; no real key, secret or token is that short.
    if (secret && secret.length >= 4) out = out.replace(encodedForms(secret), "[redacted]");
  }
  return out;
}

const cache = new Map<string, RegExp>();

function encodedForms(secret: string): RegExp {
  let re = cache.get(secret);
  if (!re) {
    re = new RegExp([...secret].map(characterForms).join(""), "g");
    cache.set(secret, re);
  }
  return re;
}

/** A hex digit in either case: `2f` and `2F` are the same escape. */
const hex = (digits: string) => [...digits].map((d) => (/[a-f]/i.test(d) ? `[${d.toLowerCase()}${d.toUpperCase()}]` : d)).join("");

/** How JSON.stringify (and most servers) escape these in a string, as regex sources matching the escape. */
const JSON_SHORT_ESCAPES: Record<string, string> = {
  '"': '\\\\"',
  "\\": "\\\\\\\\",
  "/": "\\\\/",
  "\b": "\\\\b",
  "\f": "\\\\f",
  "\n": "\\\\n",
  "\r": "\\\\r",
  "\t": "\\\\t",
};

/** Every way one character (a code point) of a secret may appear in a line: as a regex alternation. */
function characterForms(char: string): string {
  const forms = new Set<string>([char.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")]);
  // Percent-encoding of its UTF-8 bytes (encodeURIComponent, URLSearchParams), and `+` for a space in a form.
  forms.add([...Buffer.from(char, "utf8")].map((b) => `%${hex(b.toString(16).padStart(2, "0"))}`).join(""));
  if (char === " ") forms.add("\\+");
  // JSON: \uXXXX for each UTF-16 unit (a code point above U+FFFF is two), and the short escapes.
  forms.add([...Array(char.length).keys()].map((i) => `\\\\u${hex(char.charCodeAt(i).toString(16).padStart(4, "0"))}`).join(""));
  const short = JSON_SHORT_ESCAPES[char];
  if (short) forms.add(short);
  return `(?:${[...forms].join("|")})`;
}
