/**
 * The one bounded wait the scripts share (reliability suite, slow-client attack, sandbox): poll a condition until it
 * holds or the time is up, and say which.
 */

/** Polls `condition` every `everyMs` (default 10 ms); false when `timeoutMs` passed first. */
export async function within(condition: () => boolean, timeoutMs: number, everyMs = 10): Promise<boolean> {
  const end = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > end) return false;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  return true;
}
