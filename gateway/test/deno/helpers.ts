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
