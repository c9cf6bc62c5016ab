// The certificate wait: each decision from a table, the loop with a fake clock and fake lookups (no timers, no
// network), and the Compute API lookup against a fake fetch.

import { describe, expect, test } from "vitest";
import {
  CertificateLookupError,
  CertificateNotReady,
  computeCertificateLookup,
  DEFAULT_WAIT_BOUNDS,
  nextCertificateStep,
  pollDelayMs,
  readCertificate,
  waitForCertificate,
  type CertificateObservation,
  type Observed,
} from "../certificateStatus.js";

const TARGET = { domain: "sms.example.com", address: "203.0.113.7", certificateName: "gw-cert-abc1234" };
const cert = (status: string, domainStatus: Record<string, string> = {}): CertificateObservation => ({ status, domainStatus });
const observed = (over: Partial<Observed>): Observed => ({ certificate: cert("PROVISIONING"), resolved: ["203.0.113.7"], elapsedMs: 0, attempt: 0, ...over });
const MINUTE = 60_000;

describe("nextCertificateStep", () => {
  test("ACTIVE: go on", () => {
    expect(nextCertificateStep(TARGET, observed({ certificate: cert("ACTIVE") }))).toEqual({ kind: "ready" });
  });

  test("RENEWAL_FAILED: the current certificate still serves, so go on, with a warning", () => {
    const step = nextCertificateStep(TARGET, observed({ certificate: cert("RENEWAL_FAILED") }));
    expect(step.kind).toBe("ready");
    expect(step.kind === "ready" && step.warning).toContain("failed to renew");
  });

  test("PROVISIONING_FAILED_PERMANENTLY: stop at once, say to replace it", () => {
    const step = nextCertificateStep(TARGET, observed({ certificate: cert("PROVISIONING_FAILED_PERMANENTLY", { "sms.example.com": "FAILED_CAA_FORBIDDEN" }) }));
    expect(step).toMatchObject({ kind: "give-up" });
    expect(step.kind === "give-up" && step.message).toMatch(/will not retry[\s\S]*FAILED_CAA_FORBIDDEN[\s\S]*--replace/);
  });

  test.each([
    ["DNS points here, provisioning", observed({}), 5_000],
    ["transient lookup failure", observed({ certificate: undefined, attempt: 2 }), 20_000],
    ["PROVISIONING_FAILED is retried by Google", observed({ certificate: cert("PROVISIONING_FAILED"), attempt: 9 }), 30_000],
    ["DNS not there yet, inside the grace period", observed({ resolved: [], elapsedMs: MINUTE }), 5_000],
    ["DNS lookup failed for another reason", observed({ resolved: undefined, elapsedMs: 10 * MINUTE }), 5_000],
  ])("%s: wait", (_, obs, delayMs) => {
    expect(nextCertificateStep(TARGET, obs)).toMatchObject({ kind: "wait", delayMs });
  });

  test("the wait never runs past the timeout", () => {
    const step = nextCertificateStep(TARGET, observed({ elapsedMs: DEFAULT_WAIT_BOUNDS.timeoutMs - 1_000, attempt: 8 }));
    expect(step).toEqual({ kind: "wait", delayMs: 1_000, progress: expect.stringContaining("certificate PROVISIONING") });
  });

  test.each([
    ["does not resolve", []],
    ["resolves elsewhere", ["198.51.100.1"]],
  ])("after the grace period the domain %s: stop with the exact record to create", (_, resolved) => {
    const step = nextCertificateStep(TARGET, observed({ resolved, elapsedMs: DEFAULT_WAIT_BOUNDS.dnsGraceMs }));
    expect(step.kind).toBe("give-up");
    const message = step.kind === "give-up" ? step.message : "";
    expect(message).toContain('"sms.example.com. A 203.0.113.7"');
    expect(message).toContain("gcloud compute ssl-certificates describe gw-cert-abc1234 --global");
    expect(message).toContain("run `pulumi up` again");
  });

  test("the timeout ends the wait with the statuses seen", () => {
    const step = nextCertificateStep(TARGET, observed({ certificate: cert("PROVISIONING", { "sms.example.com": "PROVISIONING" }), elapsedMs: 30 * MINUTE }));
    expect(step.kind === "give-up" && step.message).toMatch(/not active after 30 minutes \(certificate PROVISIONING \(sms\.example\.com: PROVISIONING\); the domain resolves to 203\.0\.113\.7\)/);
  });

  test("poll delays back off to 30 s", () => {
    expect([0, 1, 2, 3, 4, 20].map(pollDelayMs)).toEqual([5_000, 10_000, 20_000, 30_000, 30_000, 30_000]);
  });
});

describe("readCertificate", () => {
  test.each([
    [{ managed: { status: "ACTIVE", domainStatus: { "a.example.com": "ACTIVE" }, domains: ["a.example.com"] } }, cert("ACTIVE", { "a.example.com": "ACTIVE" })],
    [{ managed: { status: "PROVISIONING" } }, cert("PROVISIONING")],
    [{ managed: { status: 3, domainStatus: { x: 1 } } }, cert("UNKNOWN")],
    [{}, cert("UNKNOWN")],
    [null, cert("UNKNOWN")],
    ["not json", cert("UNKNOWN")],
  ])("%j", (body, expected) => {
    expect(readCertificate(body)).toEqual(expected);
  });
});

/** A clock that only moves when the loop sleeps. */
function fakeDeps(certificates: (CertificateObservation | Error)[], resolved: (string[] | Error)[]) {
  let now = 0;
  const log: string[] = [];
  const sleeps: number[] = [];
  let round = 0;
  const at = <T>(list: T[]) => list[Math.min(round, list.length - 1)]!;
  return {
    log,
    sleeps,
    deps: {
      lookupCertificate: async () => {
        const next = at(certificates);
        if (next instanceof Error) throw next;
        return next;
      },
      resolveDomain: async () => {
        const next = at(resolved);
        round++;
        if (next instanceof Error) throw next;
        return next;
      },
      sleep: async (ms: number) => {
        sleeps.push(ms);
        now += ms;
      },
      now: () => now,
      log: (line: string) => log.push(line),
    },
  };
}

const notFound = Object.assign(new Error("queryA ENOTFOUND sms.example.com"), { code: "ENOTFOUND" });

describe("waitForCertificate", () => {
  test("polls through provisioning and returns once ACTIVE", async () => {
    const { deps, sleeps, log } = fakeDeps([cert("PROVISIONING"), cert("PROVISIONING"), cert("ACTIVE")], [["203.0.113.7"]]);
    await waitForCertificate(deps, TARGET);
    expect(sleeps).toEqual([5_000, 10_000]);
    expect(log).toHaveLength(2);
    expect(log[0]).toContain("Waiting for sms.example.com: certificate PROVISIONING");
  });

  test("a domain that never resolves ends the wait after the grace period, not the full timeout", async () => {
    const { deps, sleeps } = fakeDeps([cert("PROVISIONING")], [notFound]);
    await expect(waitForCertificate(deps, TARGET)).rejects.toThrow(/does not point to the load balancer yet[\s\S]*the domain does not resolve/);
    expect(sleeps.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(DEFAULT_WAIT_BOUNDS.dnsGraceMs);
    expect(sleeps.reduce((a, b) => a + b, 0)).toBeLessThan(DEFAULT_WAIT_BOUNDS.dnsGraceMs + 30_000);
  });

  test("transient lookup failures are waited out", async () => {
    const { deps } = fakeDeps([new CertificateLookupError("HTTP 503", true), new Error("socket hang up"), cert("ACTIVE")], [["203.0.113.7"]]);
    await expect(waitForCertificate(deps, TARGET)).resolves.toBeUndefined();
  });

  test("a permanent lookup failure ends the wait with its reason", async () => {
    const { deps, sleeps } = fakeDeps([new CertificateLookupError("the deploying identity needs compute.sslCertificates.get", false)], [["203.0.113.7"]]);
    const error = await waitForCertificate(deps, TARGET).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CertificateNotReady);
    expect((error as Error).message).toContain("compute.sslCertificates.get");
    expect(sleeps).toEqual([]);
  });

  test("the whole wait is bounded by the timeout", async () => {
    const { deps, sleeps } = fakeDeps([cert("PROVISIONING")], [["203.0.113.7"]]);
    await expect(waitForCertificate(deps, TARGET, { timeoutMs: 5 * MINUTE, dnsGraceMs: MINUTE })).rejects.toThrow(/not active after 5 minutes/);
    expect(sleeps.reduce((a, b) => a + b, 0)).toBe(5 * MINUTE);
  });
});

describe("computeCertificateLookup", () => {
  const TOKEN = "ya29.secret-token-value";
  function fakeFetch(respond: (url: string, init: RequestInit) => Response | Promise<Response>) {
    const calls: { url: string; init: RequestInit }[] = [];
    const fn = (async (url: string, init: RequestInit) => {
      calls.push({ url, init });
      return respond(url, init);
    }) as unknown as typeof fetch;
    return { fn, calls };
  }

  test("reads the certificate with a bearer token from the Compute API", async () => {
    const { fn, calls } = fakeFetch(() => Response.json({ managed: { status: "ACTIVE", domainStatus: { "sms.example.com": "ACTIVE" } } }));
    await expect(computeCertificateLookup(fn, "my-project", "gw-cert-abc1234", TOKEN)()).resolves.toEqual(cert("ACTIVE", { "sms.example.com": "ACTIVE" }));
    expect(calls[0]!.url).toBe("https://compute.googleapis.com/compute/v1/projects/my-project/global/sslCertificates/gw-cert-abc1234");
    expect(calls[0]!.init.headers).toEqual({ authorization: `Bearer ${TOKEN}` });
  });

  test.each([
    [new Response("{}", { status: 404 }), false, "does not exist in this project"],
    [new Response("{}", { status: 403 }), false, "needs compute.sslCertificates.get"],
    [new Response("{}", { status: 400 }), false, "HTTP 400"],
    [new Response("{}", { status: 503 }), true, "HTTP 503"],
    [new Response("{}", { status: 429 }), true, "HTTP 429"],
  ])("answer %#: transient %s", async (response, transient, hint) => {
    const { fn } = fakeFetch(() => response);
    const error = (await computeCertificateLookup(fn, "p", "c", TOKEN)().catch((e: unknown) => e)) as CertificateLookupError;
    expect(error).toBeInstanceOf(CertificateLookupError);
    expect(error.transient).toBe(transient);
    expect(error.message).toContain(hint);
    expect(error.message).not.toContain(TOKEN);
  });

  test("a network failure is transient and never carries the token", async () => {
    const { fn } = fakeFetch(() => {
      throw new TypeError("fetch failed");
    });
    const error = (await computeCertificateLookup(fn, "p", "c", TOKEN)().catch((e: unknown) => e)) as CertificateLookupError;
    expect(error.transient).toBe(true);
    expect(error.message).not.toContain(TOKEN);
  });
});
