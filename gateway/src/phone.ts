import { Metadata, parsePhoneNumberFromString, type CountryCode } from "libphonenumber-js/core";
import metadataJson from "libphonenumber-js/max/metadata";

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

/**
 * Strict E.164 — a leading +, digits only — and a number libphonenumber-js considers valid with its "max"
 * metadata (every number type's pattern, not just lengths), with the region it resolves (US, CA or PR for +1).
 *
 * Same answers as `parseE164WithLibrary` (gateway/test/phone.test.ts compares the two on every country's example
 * numbers and thousands of generated ones), at a fraction of the cost: the library builds a new RegExp from the
 * metadata's pattern text on every check (`matchesEntirely`: flatten and hash a string of up to ~1,000 characters,
 * then look it up in V8's cache), ~6 per US number and dozens for +1 numbers outside the US. Here each pattern is
 * compiled once per process, on first use. The decisions follow the library's own, step for step:
 * parse.js → extractCountryCallingCode, getCountryByCallingCode/getCountryByNationalNumber, isValid → getNumberType.
 * Two rare cases go to the library itself: a national number that starts with its country's national prefix (the
 * library may strip it, e.g. Argentina's mobile 9), and non-geographic calling codes (+800, +882, …).
 */
export function parseE164(input: string): Destination | undefined {
  if (!E164_SHAPE.test(input)) return undefined;
  const split = splitCallingCode(input);
  if (!split) return undefined;
  const { callingCode, countries, nationalNumber } = split;
  if (countries === undefined) return parseE164WithLibrary(input);
  const main = planFor(countries[0]!);
  if (main.nationalPrefix?.test(nationalNumber)) return parseE164WithLibrary(input);

  const country = countries.length === 1 ? countries[0] : countryByNationalNumber(nationalNumber, countries);
  const plan = country === undefined ? main : planFor(country);
  if (!isValidFor(nationalNumber, plan)) return undefined;
  return { e164: input, callingCode, country };
}

/** The library's own answer (parse, then isValid, then the number must be the input unchanged): the reference. */
export function parseE164WithLibrary(input: string): Destination | undefined {
  if (!E164_SHAPE.test(input)) return undefined;
  const parsed = parsePhoneNumberFromString(input, metadataJson);
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

/**
 * The parts of libphonenumber-js's Metadata class used here (source/metadata.js; its README documents
 * `selectNumberingPlan` and `numberingPlan`, the rest is what the library's own parse and isValid call).
 */
interface NumberingPlanView {
  nationalNumberPattern(): string;
  possibleLengths(): number[] | undefined;
  nationalPrefixForParsing(): string | undefined;
  leadingDigits(): string | undefined;
  hasTypes(): boolean;
  type(name: string): { pattern(): string; possibleLengths(): number[] | undefined } | undefined;
}
interface MetadataView {
  numberingPlan: NumberingPlanView;
  selectNumberingPlan(countryOrCallingCode: string): void;
  hasCallingCode(callingCode: string): boolean;
  hasCountry(country: string): boolean;
  getCountryCodesForCallingCode(callingCode: string): CountryCode[] | undefined;
}
const metadata = new Metadata(metadataJson) as unknown as MetadataView;

/**
 * An ISO 3166 code the metadata has a numbering plan for (SMS_ROUTES keys, ALLOWED_COUNTRIES). The one metadata
 * instance the number checks use: importing `libphonenumber-js/max` for this would load its own wrappers as well.
 */
export function isSupportedCountry(code: string): code is CountryCode {
  return metadata.hasCountry(code);
}

/** getNumberType's order: fixed line first, then the others (libphonenumber-js helpers/getNumberType.js). */
const NUMBER_TYPES = [
  "FIXED_LINE", "MOBILE", "PREMIUM_RATE", "TOLL_FREE", "SHARED_COST", "VOIP", "PERSONAL_NUMBER", "PAGER", "UAN", "VOICEMAIL",
];

interface Plan {
  /** `^(?:national_number_pattern)$` */
  nationalNumber: RegExp;
  /** Each number type with a pattern, and the national-number lengths it allows; undefined when the metadata has none. */
  types: { pattern: RegExp; lengths: number[] | undefined }[] | undefined;
  /** `^(?:leading_digits)`: picks a country among those sharing a calling code. */
  leadingDigits: RegExp | undefined;
  /** `^(?:national_prefix_for_parsing)`: a match means the library may strip it. */
  nationalPrefix: RegExp | undefined;
}

const plans = new Map<string, Plan>();

function planFor(country: CountryCode): Plan {
  let plan = plans.get(country);
  if (plan) return plan;
  metadata.selectNumberingPlan(country);
  const np = metadata.numberingPlan;
  const entire = (pattern: string) => new RegExp(`^(?:${pattern})$`);
  const prefix = (pattern: string | undefined) => (pattern ? new RegExp(`^(?:${pattern})`) : undefined);
  plan = {
    nationalNumber: entire(np.nationalNumberPattern()),
    types: np.hasTypes()
      ? NUMBER_TYPES.flatMap((name) => {
          const type = np.type(name);
          // An empty pattern stands for "same as fixed line" (removed as a duplicate): never a match of its own.
          return type && type.pattern() ? [{ pattern: entire(type.pattern()), lengths: type.possibleLengths() }] : [];
        })
      : undefined,
    leadingDigits: prefix(np.leadingDigits()),
    nationalPrefix: prefix(np.nationalPrefixForParsing()),
  };
  plans.set(country, plan);
  return plan;
}

/** Calling codes are prefix-free: the first 1–3 digits that are one (extractCountryCallingCode). */
function splitCallingCode(
  e164: string,
): { callingCode: string; countries: readonly CountryCode[] | undefined; nationalNumber: string } | undefined {
  for (let end = 2; end <= 4 && end < e164.length; end++) {
    const callingCode = e164.slice(1, end);
    if (metadata.hasCallingCode(callingCode)) {
      // The library rejects national numbers shorter than 2 digits (parse.js MIN_LENGTH_FOR_NSN).
      const nationalNumber = e164.slice(end);
      if (nationalNumber.length < 2) return undefined;
      return { callingCode, countries: metadata.getCountryCodesForCallingCode(callingCode), nationalNumber };
    }
  }
  return undefined;
}

/** The first country (the calling code's main one first) whose leading digits or number types match. */
function countryByNationalNumber(nationalNumber: string, countries: readonly CountryCode[]): CountryCode | undefined {
  for (const country of countries) {
    const plan = planFor(country);
    if (plan.leadingDigits ? plan.leadingDigits.test(nationalNumber) : hasNumberType(nationalNumber, plan)) return country;
  }
  return undefined;
}

function hasNumberType(nationalNumber: string, plan: Plan): boolean {
  if (!plan.nationalNumber.test(nationalNumber)) return false;
  return (plan.types ?? []).some(
    (t) => (t.lengths === undefined || t.lengths.includes(nationalNumber.length)) && t.pattern.test(nationalNumber),
  );
}

/** isValid: a number type matches when the metadata has types, else the national number pattern. */
function isValidFor(nationalNumber: string, plan: Plan): boolean {
  return plan.types ? hasNumberType(nationalNumber, plan) : plan.nationalNumber.test(nationalNumber);
}
