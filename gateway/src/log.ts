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

const TRACE_HEADER = /^([0-9a-fA-F]{32})(?:\/(\d+))?/;

/**
 * The Cloud Logging trace field from `X-Cloud-Trace-Context: TRACE_ID/SPAN_ID;o=1`, when the project is known
 * and the header is well formed; otherwise nothing (a malformed header must not break or pollute the log).
 */
export function traceFields(header: string | undefined, projectId: string | undefined): LogFields {
  if (!projectId || !header) return {};
  const match = TRACE_HEADER.exec(header);
  if (!match) return {};
  const fields: LogFields = { "logging.googleapis.com/trace": `projects/${projectId}/traces/${match[1]}` };
  if (match[2]) fields["logging.googleapis.com/spanId"] = match[2];
  return fields;
}
