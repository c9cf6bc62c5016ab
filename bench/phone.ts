/**
 * Micro-benchmark of the gateway's phone check: `npx tsx bench/phone.ts` (Node) or
 * `deno run bench/phone.ts` (Deno). parseE164 (gateway/src/phone.ts: libphonenumber-js's patterns compiled once)
 * against parseE164WithLibrary (the library's own parse + isValid, which the gateway used before), over a
 * realistic mix of destinations: each country's example mobile number with its last four digits varied (seeded),
 * weighted roughly like an OTP service's traffic, and 2% typos. Rounds alternate; prints µs per call, medians.
 */
import { getCountryCallingCode, type CountryCode } from "libphonenumber-js/core";
import metadataJson from "libphonenumber-js/max/metadata";
import examples from "libphonenumber-js/mobile/examples";
import { parseE164, parseE164WithLibrary } from "../gateway/src/phone.ts";
import { median } from "./lib/stats.ts";

/** Share of sends per destination country: NANP-heavy, then large European, Latin American and Asian markets. */
const MIX: [CountryCode, number][] = [
  ["US", 38], ["CA", 5], ["PR", 1], ["GB", 8], ["IN", 8], ["BR", 6], ["MX", 5], ["DE", 3], ["FR", 3], ["ES", 3],
  ["IT", 3], ["AU", 2], ["JP", 2], ["NG", 2], ["ZA", 1], ["IL", 1], ["AR", 1], ["PH", 1], ["ID", 1], ["TR", 1],
  ["JM", 1], ["DO", 1],
];
const SIZE = 10_000;
const ROUNDS = 7;
const PASSES = 5;

/** mulberry32: the same mix on every run. */
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function buildMix(): string[] {
  const random = rng(12);
  const total = MIX.reduce((n, [, w]) => n + w, 0);
  const numbers: string[] = [];
  for (const [country, weight] of MIX) {
    const national = (examples as Partial<Record<CountryCode, string>>)[country]!;
    const prefix = `+${getCountryCallingCode(country, metadataJson)}${national.slice(0, -4)}`;
    for (let i = 0; i < Math.round((SIZE * weight) / total); i++) {
      const tail = String(Math.floor(random() * 10_000)).padStart(4, "0");
      // 2% typos: a digit dropped.
      numbers.push(random() < 0.02 ? (prefix + tail).slice(0, -1) : prefix + tail);
    }
  }
  // Shuffle, so no country's numbers run as a block.
  for (let i = numbers.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [numbers[i], numbers[j]] = [numbers[j]!, numbers[i]!];
  }
  return numbers;
}

type Parse = (input: string) => unknown;

/** µs per call over `passes` passes through `inputs`. */
function time(parse: Parse, inputs: readonly string[], passes = PASSES): number {
  let sink = 0;
  const start = performance.now();
  for (let p = 0; p < passes; p++) for (const input of inputs) if (parse(input)) sink++;
  const us = ((performance.now() - start) * 1000) / (passes * inputs.length);
  if (sink < 0) throw new Error("unreachable");
  return us;
}

const mix = buildMix();
// The first pass of each, in a fresh process: compiling the patterns a country needs, once, and the JIT's start.
const firstNow = time(parseE164, mix, 1);
const firstBefore = time(parseE164WithLibrary, mix, 1);
const valid = mix.filter((n) => parseE164WithLibrary(n)).length;
for (const n of mix) {
  if (JSON.stringify(parseE164(n)) !== JSON.stringify(parseE164WithLibrary(n))) throw new Error(`disagree on ${n}`);
}

const subjects: [string, Parse][] = [
  ["parseE164WithLibrary (before: libphonenumber-js parse + isValid)", parseE164WithLibrary],
  ["parseE164 (now: the library's patterns compiled once)", parseE164],
];
const inputs: [string, string[]][] = [
  [`the mix (${mix.length} numbers, ${valid} valid)`, mix],
  ["the bench's US number, +14155552671", ["+14155552671"]],
  ["a Canadian number, +16135550123", ["+16135550123"]],
  ["a Puerto Rican number, +17875550123", ["+17875550123"]],
];
const runtime = "Deno" in globalThis ? `Deno ${(globalThis as unknown as { Deno: { version: { deno: string } } }).Deno.version.deno}` : `Node ${process.version}`;
console.log(`${runtime}: µs per call, median of ${ROUNDS} alternating rounds (${PASSES} passes each)`);
console.log(`\nfirst pass over the mix, cold: ${firstBefore.toFixed(2)} µs before, ${firstNow.toFixed(2)} µs now (compiles what it uses)`);
for (const [label, list] of inputs) {
  const reps = Math.max(1, Math.round(mix.length / list.length));
  const repeated = list.length === 1 ? Array.from({ length: reps }, () => list[0]!) : list;
  for (const [, parse] of subjects) time(parse, repeated, 1); // warm-up
  const samples = subjects.map(() => [] as number[]);
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 ? [1, 0] : [0, 1];
    for (const i of order) samples[i]!.push(time(subjects[i]![1], repeated));
  }
  const [before, now] = samples.map(median) as [number, number];
  console.log(`\n${label}`);
  for (const [i, [name]] of subjects.entries()) console.log(`  ${median(samples[i]!).toFixed(2).padStart(7)} µs  ${name}`);
  console.log(`  ${(before / now).toFixed(1)}× faster`);
}
