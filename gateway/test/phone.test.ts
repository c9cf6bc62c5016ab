import fc from "fast-check";
import { getCountries, getCountryCallingCode, type CountryCode } from "libphonenumber-js/core";
import metadataJson from "libphonenumber-js/max/metadata";
import examples from "libphonenumber-js/mobile/examples";
import { describe, expect, it } from "vitest";
import { parseE164, parseE164WithLibrary } from "../src/phone.ts";

/**
 * parseE164 compiles libphonenumber-js's patterns once and follows its decisions itself; parseE164WithLibrary is
 * the library's own parse + isValid. They must agree on every input: valid or not, and the region (US/CA/PR and
 * the other NANP countries decide the alphanumeric-sender rule). A library upgrade that changes its metadata
 * layout or its decisions fails here.
 */
const countries = getCountries(metadataJson);
const callingCodes = [...new Set(countries.map((c) => getCountryCallingCode(c, metadataJson) as string))];
const nonGeographic = Object.keys((metadataJson as { nonGeographic?: Record<string, unknown> }).nonGeographic ?? {});
const e164Examples = countries.flatMap((c) => {
  const national = (examples as Partial<Record<CountryCode, string>>)[c];
  return national ? [`+${getCountryCallingCode(c, metadataJson)}${national}`] : [];
});

function expectSameAnswer(input: string): void {
  expect(parseE164(input), input).toEqual(parseE164WithLibrary(input));
}

describe("parseE164 agrees with libphonenumber-js", () => {
  it("on every country's example mobile number, all of them valid", () => {
    expect(e164Examples.length).toBeGreaterThan(200);
    for (const input of e164Examples) {
      expectSameAnswer(input);
      expect(parseE164(input), input).toBeDefined();
    }
  });

  it("on every NANP area code: the region is the library's (US, CA, PR, JM, …) or none", () => {
    const regions = new Set<string>();
    for (let npa = 200; npa <= 999; npa++) {
      for (const line of ["2345678", "5550123", "9876543"]) {
        const input = `+1${npa}${line}`;
        expectSameAnswer(input);
        const region = parseE164(input)?.country;
        if (region) regions.add(region);
      }
    }
    for (const region of ["US", "CA", "PR", "JM", "DO", "BB"]) expect(regions).toContain(region);
    expect(regions.size).toBeGreaterThan(10);
  });

  it("on example numbers with their last digits changed, one digit more or less", () => {
    const mutated = fc.tuple(
      fc.constantFrom(...e164Examples),
      fc.integer({ min: 1, max: 5 }),
      fc.stringMatching(/^\d{0,6}$/),
    ).map(([example, cut, tail]) => example.slice(0, Math.max(2, example.length - cut)) + tail);
    fc.assert(fc.property(mutated, (input) => expectSameAnswer(input)), { numRuns: 5000 });
  });

  it("on random digits after every calling code, geographic and not", () => {
    const random = fc.tuple(
      fc.constantFrom(...callingCodes, ...nonGeographic),
      fc.stringMatching(/^\d{0,14}$/),
    ).map(([cc, digits]) => `+${cc}${digits}`.slice(0, 16));
    fc.assert(fc.property(random, (input) => expectSameAnswer(input)), { numRuns: 5000 });
  });

  it("on the cases it hands to the library: a national prefix at the start, non-geographic codes", () => {
    // Argentina's mobile 9 matches its national_prefix_for_parsing; the library keeps the number as given.
    expect(parseE164("+5491123456789")).toEqual({ e164: "+5491123456789", callingCode: "54", country: "AR" });
    // A UK number written with its trunk 0: the library strips it, so the number is not the input: rejected.
    expect(parseE164("+4402071838750")).toBeUndefined();
    // Belarus: 8105848489 fits a number type as given, but the library reads the 8 as the trunk prefix and strips it
    // (what is left is a possible number too), so the number is not the input: rejected.
    expect(parseE164("+3758105848489")).toBeUndefined();
    // +800 (international freephone) has no region.
    expect(parseE164("+80012345678")).toEqual({ e164: "+80012345678", callingCode: "800", country: undefined });
    for (const input of ["+5491123456789", "+4402071838750", "+3758105848489", "+80012345678", "+78005553535"]) {
      expectSameAnswer(input);
    }
  });

  it("on malformed input, which neither accepts", () => {
    for (const input of ["", "+", "+0", "+1", "+12", "+44", "1415555267", "+1415555267\n", "+1 4155552671", "+999123456"]) {
      expect(parseE164(input), input).toBeUndefined();
      expectSameAnswer(input);
    }
  });
});
