/**
 * Structured logs in Cloud Logging's format: one JSON object per line on stdout, `severity` and `message`
 * recognised, the trace linked when the project is known.
 * https://cloud.google.com/run/docs/logging#writing_structured_logs
 *
 * Callers pass only fields that are safe to log; this module adds no request data of its own.
 */

export type Severity = "DEBUG" | "INFO" | "NOTICE" | "WARNING" | "ERROR" | "CRITICAL";
export type LogFields = Record<string, unknown>;

export interface Logger {
  log(severity: Severity, message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

export function createLogger(write: (line: string) => void): Logger {
  function log(severity: Severity, message: string, fields: LogFields = {}): void {
    write(`${JSON.stringify({ severity, message, ...fields, time: new Date().toISOString() })}\n`);
  }
  return {
    log,
    info: (message, fields) => log("INFO", message, fields),
    warn: (message, fields) => log("WARNING", message, fields),
    error: (message, fields) => log("ERROR", message, fields),
  };
}

/**
 * `X-Cloud-Trace-Context: TRACE_ID[/SPAN_ID][;o=OPTIONS]`: 32 hex digits, a decimal unsigned 64-bit span id, and
 * o=0 or o=1 (https://cloud.google.com/trace/docs/trace-context#legacy-http-header). Anything else — a 15,000-digit
 * span made a 15 KB log line (issue 8, item 13) — is not a trace header we log.
 */
const TRACE_HEADER = /^([0-9a-fA-F]{32})(?:\/(\d{1,20}))?(?:;o=[01])?$/;
/** The longest well-formed header: 32 + 1 + 20 + 4 characters. Checked before the regex runs. */
const MAX_TRACE_HEADER_LENGTH = 57;
const MAX_SPAN_ID = 2n ** 64n - 1n;

/**
 * The Cloud Logging trace fields from X-Cloud-Trace-Context, when the project is known and the header is well
 * formed; otherwise nothing (a malformed header must not break or pollute the log). The span id is written as
 * LogEntry.spanId wants it: 16 hex digits (https://cloud.google.com/logging/docs/reference/v2/rest/v2/LogEntry).
 */
export function traceFields(header: string | undefined, projectId: string | undefined): LogFields {
  if (!projectId || !header || header.length > MAX_TRACE_HEADER_LENGTH) return {};
  const match = TRACE_HEADER.exec(header);
  if (!match) return {};
  const fields: LogFields = { "logging.googleapis.com/trace": `projects/${projectId}/traces/${match[1]!.toLowerCase()}` };
  if (match[2] !== undefined) {
    const span = BigInt(match[2]);
    if (span > MAX_SPAN_ID) return {};
    fields["logging.googleapis.com/spanId"] = span.toString(16).padStart(16, "0");
  }
  return fields;
}
