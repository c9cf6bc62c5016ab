/**
 * A provider's HTTP answer as the classifiers read it, and the small parsing helpers they share. Pure.
 */

export interface HttpAnswer {
  status: number;
  /** The body, already capped in size by the transport. */
  body: string;
  /** Lower-case names, as node:http gives them. */
  headers: Readonly<Record<string, string | string[] | undefined>>;
}

/** The body as JSON, or undefined when it is not JSON. */
export function parseJsonBody(body: string): unknown {
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return undefined;
  }
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** `Retry-After` in seconds (RFC 9110 also allows an HTTP date: no provider here sends one, so it is ignored). */
export function parseRetryAfter(value: unknown): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  const seconds = typeof raw === "string" && raw.trim() !== "" ? Number(raw) : typeof raw === "number" ? raw : NaN;
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
}

/**
 * A provider's id or code as it may appear in a log line: short, and only characters ids are made of. Anything
 * else (a provider echoing a phone number or the text back in a field) is dropped rather than logged.
 */
export function safeToken(value: unknown, maxLength = 64): string | undefined {
  const text = typeof value === "number" && Number.isFinite(value) ? String(value) : value;
  return typeof text === "string" && text.length > 0 && text.length <= maxLength && /^[A-Za-z0-9._:-]+$/.test(text)
    ? text
    : undefined;
}

export function isRedirect(status: number): boolean {
  return status >= 300 && status < 400;
}
