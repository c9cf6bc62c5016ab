/** An environment value as the gateway reads it: trimmed, and unset when blank (an empty `KEY=` means "not set"). */
export function trimmedOrUndefined(v: string | undefined): string | undefined {
  return v === undefined || v.trim() === "" ? undefined : v.trim();
}
