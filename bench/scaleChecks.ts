/**
 * Correctness under concurrency for the scale run (issue 14): gateway processes sharing one redis-server, driven
 * the way a retrying caller and an abuser would drive them, with the fake Twilio counting what actually went out.
 *
 * - retry storm: every OTP sent several times at once, the copies spread over the processes, then once more late:
 *   exactly one send per OTP at the fake, and every copy answered 200 with that send's id;
 * - per-number limit, one request after another across processes: the Nth allowed, the N+1th a 429 with Retry-After;
 * - per-number and per-prefix limits, all at once across processes: exactly N sends, every other request a 429.
 *
 * Results name OTPs by index and numbers masked: a message text (it holds the code) is never printed.
 */
import http from "node:http";
import type { FakeTwilio } from "../scripts/emulators/twilio.ts";
import { maskPhone } from "../gateway/src/phone.ts";
import { PATH, sendHeaders } from "./lib/fixtures.ts";

export interface Target {
  name: string;
  port: number;
  agent: http.Agent;
}

export interface Answer {
  status: number;
  retryAfter: string | undefined;
  id: string | undefined;
  code: string | undefined;
  deduplicated: boolean;
}

export interface CheckResult {
  check: string;
  processes: number;
  ok: boolean;
  /** What was seen, in one line. */
  detail: string;
  /** What was wrong (empty when ok), at most a few lines. */
  problems: string[];
  ms: number;
  /** The Redis store's state changes the gateways logged while the check ran (e.g. degraded: command timed out). */
  storeEvents: string[];
  /** The attempt before this one: it failed while a gateway's store was degraded, so it did not test shared state. */
  retriedAfter?: CheckResult;
}

/** Mosaic's POST, on the target's keep-alive pool (bounded like Cloud Run's per-instance concurrency). */
export function post(target: Target, to: string, text: string, timeoutMs = 10_000): Promise<Answer> {
  const body = JSON.stringify({ phone_number: to, sender_id: "", message: text });
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: "127.0.0.1", port: target.port, method: "POST", path: PATH, agent: target.agent, headers: sendHeaders },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", reject);
        res.on("end", () => {
          let parsed: { id?: string; deduplicated?: boolean; error?: { code?: string } } = {};
          try {
            parsed = JSON.parse(Buffer.concat(chunks).toString("utf8"));
          } catch {
            // not JSON: the status says enough
          }
          const retryAfter = res.headers["retry-after"];
          resolve({
            status: res.statusCode ?? 0,
            retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
            id: parsed.id,
            code: parsed.error?.code,
            deduplicated: parsed.deduplicated === true,
          });
        });
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer from ${target.name} in ${timeoutMs} ms`)));
    req.on("error", reject);
    req.end(body);
  });
}

/** The Messages the fake created since `mark`, counted by (number, text), with their ids. */
function sendsSince(fake: FakeTwilio, mark: number): Map<string, string[]> {
  const sends = new Map<string, string[]>();
  for (const m of fake.created.slice(mark)) {
    const key = `${m.to}\u0000${m.body}`;
    sends.set(key, [...(sends.get(key) ?? []), m.sid]);
  }
  return sends;
}

function sendsTo(fake: FakeTwilio, mark: number, to: string): number {
  return fake.created.slice(mark).filter((m) => m.to === to).length;
}

const elapsed = (t0: number) => Math.round(performance.now() - t0);
const first = (problems: string[]) => (problems.length > 4 ? [...problems.slice(0, 4), `… and ${problems.length - 4} more`] : problems);

/** A 429 that says when to retry: Retry-After in whole seconds, at least 1, at most the limit's window. */
function refusedProperly(a: Answer, windowS: number): boolean {
  const s = Number(a.retryAfter);
  return a.status === 429 && a.code === "rate_limited" && Number.isInteger(s) && s >= 1 && s <= windowS;
}

export async function retryStorm(
  targets: Target[],
  fake: FakeTwilio,
  otps: { to: string; text: string }[],
  copies: number,
  batch: number,
): Promise<CheckResult> {
  const t0 = performance.now();
  const mark = fake.created.length;
  const answers: Answer[][] = otps.map(() => []);
  const failures: string[] = [];
  const send = (i: number, j: number) =>
    post(targets[(i + j) % targets.length]!, otps[i]!.to, otps[i]!.text).then(
      (a) => void answers[i]!.push(a),
      (err: unknown) => void failures.push(`OTP #${i} copy ${j}: ${(err as Error).message}`),
    );
  // A batch of OTPs at a time, every copy of each at once; then one late copy each, after every first answer: it
  // must find the record, not send again. Batches keep the storm's own load from starving a 2-core machine (at
  // 1,000 requests at once its event loops stalled past Redis's 300 ms command timeout, which tests the fallback).
  for (let from = 0; from < otps.length; from += batch) {
    const to = Math.min(otps.length, from + batch);
    await Promise.all(otps.slice(from, to).flatMap((_, k) => Array.from({ length: copies }, (_, j) => send(from + k, j))));
  }
  await Promise.all(otps.map((_, i) => send(i, copies)));
  const sends = sendsSince(fake, mark);
  const problems = [...failures];
  let alike = 0;
  let deduplicated = 0;
  otps.forEach((otp, i) => {
    const sids = sends.get(`${otp.to}\u0000${otp.text}`) ?? [];
    const got = answers[i]!;
    deduplicated += got.filter((a) => a.deduplicated).length;
    if (sids.length !== 1) problems.push(`OTP #${i} (${maskPhone(otp.to, "1")}): ${sids.length} sends at the fake`);
    const same = got.length === copies + 1 && got.every((a) => a.status === 200 && a.id !== undefined && a.id === sids[0]);
    if (same) alike++;
    else problems.push(`OTP #${i}: answers ${got.map((a) => (a.status === 200 ? a.id : `${a.status} ${a.code ?? ""}`)).join(", ")}`);
  });
  const total = [...sends.values()].reduce((n, s) => n + s.length, 0);
  return {
    check: `retry storm: ${otps.length} OTPs (${batch} at a time) × ${copies} copies at once + 1 late`,
    processes: targets.length,
    ok: problems.length === 0,
    detail: `${total} sends at the fake (${otps.length} expected); ${alike}/${otps.length} OTPs answered 200 with one id by all ${copies + 1} copies (${deduplicated} answers deduplicated)`,
    problems: first(problems),
    ms: elapsed(t0),
    storeEvents: [],
  };
}

export async function perNumberInTurn(targets: Target[], fake: FakeTwilio, to: string, limit: { points: number; durationS: number }) {
  const t0 = performance.now();
  const mark = fake.created.length;
  const answers: Answer[] = [];
  // One after another, each on the next process: the count must carry across them.
  for (let k = 0; k <= limit.points; k++) answers.push(await post(targets[k % targets.length]!, to, `Your Acme code is ${100000 + k}`));
  const problems: string[] = [];
  answers.slice(0, limit.points).forEach((a, k) => {
    if (a.status !== 200) problems.push(`request ${k + 1} of ${limit.points} allowed: answered ${a.status} ${a.code ?? ""}`);
  });
  const last = answers[limit.points]!;
  if (!refusedProperly(last, limit.durationS)) {
    problems.push(`request ${limit.points + 1}: answered ${last.status} ${last.code ?? ""}, Retry-After ${last.retryAfter ?? "absent"}`);
  }
  const sent = sendsTo(fake, mark, to);
  if (sent !== limit.points) problems.push(`${sent} sends at the fake, ${limit.points} expected`);
  return {
    check: `per-number limit (${limit.points}/${limit.durationS / 60}m), one request after another`,
    processes: targets.length,
    ok: problems.length === 0,
    detail: `requests 1–${limit.points}: ${answers.slice(0, limit.points).map((a) => a.status).join(" ")}; request ${limit.points + 1}: ${last.status} Retry-After ${last.retryAfter ?? "absent"}; ${sent} sends`,
    problems: first(problems),
    ms: elapsed(t0),
    storeEvents: [],
  } satisfies CheckResult;
}

/** `requests` at once, round-robin over the processes: exactly `limit.points` allowed and sent, the rest 429. */
export async function limitAtOnce(
  targets: Target[],
  fake: FakeTwilio,
  requests: { to: string; text: string }[],
  limit: { name: string; points: number; durationS: number },
): Promise<CheckResult> {
  const t0 = performance.now();
  const mark = fake.created.length;
  const answers = await Promise.all(requests.map((r, i) => post(targets[i % targets.length]!, r.to, r.text)));
  const allowed = answers.filter((a) => a.status === 200).length;
  const refused = answers.filter((a) => refusedProperly(a, limit.durationS)).length;
  const numbers = new Set(requests.map((r) => r.to));
  const sent = fake.created.slice(mark).filter((m) => m.to !== null && numbers.has(m.to)).length;
  const problems: string[] = [];
  if (allowed !== limit.points) problems.push(`${allowed} answered 200, ${limit.points} expected`);
  if (refused !== requests.length - limit.points) {
    const other = answers.filter((a) => a.status !== 200 && !refusedProperly(a, limit.durationS));
    problems.push(`${refused} answered 429 with Retry-After, ${requests.length - limit.points} expected (others: ${other.map((a) => `${a.status} ${a.code ?? ""} RA ${a.retryAfter ?? "-"}`).join(", ")})`);
  }
  if (sent !== limit.points) problems.push(`${sent} sends at the fake, ${limit.points} expected`);
  return {
    check: `${limit.name} limit (${limit.points}/${limit.durationS / 60}m), ${requests.length} requests at once`,
    processes: targets.length,
    ok: problems.length === 0,
    detail: `${allowed} × 200, ${refused} × 429 with Retry-After; ${sent} sends`,
    problems: first(problems),
    ms: elapsed(t0),
    storeEvents: [],
  };
}
