import { parsePhoneNumberFromString, type CountryCode } from "libphonenumber-js/max";

/**
 * A destination number that passed validation. `country` is the ISO region when the number pins one down
 * (the "max" metadata resolves NANP area codes, which the sender-ID rule needs).
 */
export interface Destination {
  e164: string;
  callingCode: string;
  country: CountryCode | undefined;
}

const E164_SHAPE = /^\+[1-9]\d{1,14}$/;

/** Strict E.164: a leading +, digits only, and a number libphonenumber-js considers valid. */
export function parseE164(input: string): Destination | undefined {
  if (!E164_SHAPE.test(input)) return undefined;
  const parsed = parsePhoneNumberFromString(input);
  if (!parsed || !parsed.isValid() || parsed.number !== input) return undefined;
  return { e164: parsed.number, callingCode: parsed.countryCallingCode, country: parsed.country };
}

/** For logs: the country calling code and the last two digits, nothing in between. */
export function maskPhone(e164: string, callingCode?: string): string {
  const digits = e164.replace(/\D/g, "");
  const cc = callingCode ?? "";
  const hidden = Math.max(0, digits.length - cc.length - 2);
  return `+${cc}${"*".repeat(hidden)}${digits.slice(-2)}`;
}
