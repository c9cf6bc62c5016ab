export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Median of per-round ratios a[i] / b[i]: each pair was measured in the same round, under the same machine load. */
export function pairedRatio(a: readonly number[], b: readonly number[]): number {
  return median(a.map((x, i) => x / b[i]!));
}

/** Median of per-round differences a[i] - b[i]. */
export function pairedDifference(a: readonly number[], b: readonly number[]): number {
  return median(a.map((x, i) => x - b[i]!));
}
