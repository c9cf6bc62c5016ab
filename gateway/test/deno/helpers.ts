/** Small assertions and waits the Deno suites share (no std dependency: the suite runs from node_modules' deno). */

export function assertEquals<T>(actual: T, expected: T, what: string): void {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) {
    throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  }
}

export async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * A re-send happens right after the failed attempt (Deno's node:http re-adds the request to its agent at once),
 * so a short window after the answer is enough to see one.
 */
export const SETTLE_MS = 250;

/** `condition` holds now and for `forMs` more (no late re-send shows up at a fake). */
export async function holds(condition: () => boolean, forMs: number, what: string | (() => string)): Promise<void> {
  const end = Date.now() + forMs;
  do {
    if (!condition()) throw new Error(`expected ${typeof what === "string" ? what : what()}; it stopped holding`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  } while (Date.now() < end);
}

/**
 * For suites that count one provider request per POST of the same SMS (delivery, faults, failover): duplicate
 * suppression and the abuse limits, on by default (issue 11), would answer repeats from their record and refuse the
 * sixth SMS to one number. Protection has its own Deno suite (protection.test.ts).
 */
export const PROTECTION_OFF = { DEDUPE_WINDOW_S: "0", RATE_LIMIT_PER_NUMBER: "off", RATE_LIMIT_PER_PREFIX: "off" };
