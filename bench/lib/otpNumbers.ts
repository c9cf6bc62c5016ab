import { parseE164 } from "../../gateway/src/phone.ts";

/**
 * Destination numbers for runs that must never meet the abuse limits by accident: consecutive numbers fall in
 * different number ranges (the gateway's prefix is the number without its last 3 digits), so a range sees its
 * 2nd number only after 8,000 others, and its 30th (RATE_LIMIT_PER_PREFIX's default) after 232,000.
 * US numbers in one area code, each checked with the gateway's own parser (libphonenumber's "max" metadata).
 */
export function spreadNumbers(areaCode: string): () => string {
  let i = 0;
  return () => {
    if (i >= 8_000_000) throw new Error(`area code ${areaCode}: numbers exhausted`);
    const n = i++;
    return checked(`+1${areaCode}${2_000_000 + (n % 8000) * 1000 + Math.floor(n / 8000)}`);
  };
}

/** `count` numbers of one range: `+1{areaCode}{range}000` onwards (range: 4 digits, 2000–9999). */
export function rangeNumbers(areaCode: string, range: number, count: number): string[] {
  if (!(range >= 2000 && range <= 9999) || count > 1000) throw new Error("range is 2000–9999 and holds 1,000 numbers");
  return Array.from({ length: count }, (_, k) => checked(`+1${areaCode}${range}${String(k).padStart(3, "0")}`));
}

function checked(e164: string): string {
  if (!parseE164(e164)) throw new Error(`generated an invalid number (${e164.slice(0, 5)}…): change the area code`);
  return e164;
}
