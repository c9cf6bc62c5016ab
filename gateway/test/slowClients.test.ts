/**
 * Slow and abusive clients against the real server with its production limits (issue 8, items 11 and 12): 150
 * sockets trickling headers and 20 trickling a chunked body after their 401, while a legitimate client keeps
 * asking. Waits are on conditions, bounded; the timings are printed for the record (the reliability suite prints
 * them too, on Node and Deno), and bounded only where the bound is the behaviour itself.
 */
import { afterEach, describe, expect, it } from "vitest";
import { percentile, range, slowClientAttack, slowSocket, within, type SlowSocket } from "../../scripts/reliability/slowClients.ts";
import { connectionLimits, HEADERS_TIMEOUT_MS } from "../src/connectionLimits.ts";
import { API_KEY, startTestGateway, type TestGateway } from "./support.ts";

const LIMITS = connectionLimits({ sendTimeoutMs: 2500, concurrency: 80 });

let gw: TestGateway | undefined;
let sockets: SlowSocket[] = [];
afterEach(async () => {
  for (const s of sockets) s.destroy();
  sockets = [];
  await gw?.close();
  gw = undefined;
});

describe("slow clients", () => {
  it("150 header tricklers are cut at the headers timeout, 20 body tricklers right after their 401; a legitimate client keeps being answered", async () => {
    gw = await startTestGateway({});
    const f = await slowClientAttack(Number(new URL(gw.url).port), { path: "/send-sms", apiKey: API_KEY, boundMs: HEADERS_TIMEOUT_MS + 3000 });
    const ms = (v: number) => `${v.toFixed(1)} ms`;
    console.info(
      `[slow clients] header tricklers cut after ${range(f.headerCutMs)} (limit ${HEADERS_TIMEOUT_MS} ms, checked every ` +
        `${LIMITS.checkIntervalMs} ms); body tricklers closed after their 401 in ${range(f.bodyCutMs)}; GET challenge p50/p99 ` +
        `${ms(percentile(f.baseline, 50))}/${ms(percentile(f.baseline, 99))} before, ` +
        `${ms(percentile(f.underAttack, 50))}/${ms(percentile(f.underAttack, 99))} with 170 slow sockets open`,
    );

    expect(f.legitFailures).toBe(0);
    expect(f.bodyAnswers.every((a) => a === "HTTP/1.1 401 Unauthorized")).toBe(true);
    // Closed by the early-answer rule, before any timeout could have closed them.
    expect(f.bodiesFirst).toBe(true);
    expect(f.headerAnswers.every((a) => a === "HTTP/1.1 408 Request Timeout")).toBe(true);
    for (const cut of f.headerCutMs) {
      expect(cut).toBeDefined(); // closed within the bound
      expect(cut!).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 50); // by the timeout, not by anything earlier
    }

    // The teardown is one summary line at shutdown, not a WARNING per socket.
    await gw.close();
    const lines = gw.logs.map((l) => JSON.parse(l) as Record<string, unknown>);
    gw = undefined;
    expect(lines.filter((l) => l.severity === "WARNING" && String(l.message).startsWith("malformed HTTP request"))).toHaveLength(0);
    expect(lines.filter((l) => l.message === "client connections ended without a complete request")).toEqual([
      expect.objectContaining({ severity: "INFO", timedOut: 150 }),
    ]);
  });

  it("closes connections beyond maxConnections as soon as they are accepted", async () => {
    gw = await startTestGateway({ limits: { ...LIMITS, maxConnections: 10 } });
    const port = Number(new URL(gw.url).port);
    // Ten kept-alive connections, each answered once: the server has accepted all ten before the extra ones come.
    const held = Array.from({ length: 10 }, () => slowSocket(port, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
    sockets = [...held];
    expect(await within(() => held.every((s) => s.answered !== undefined), 2000)).toBe(true);
    const extra = Array.from({ length: 3 }, () => slowSocket(port, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
    sockets.push(...extra);
    expect(await within(() => extra.every((s) => s.closedAt !== undefined), 2000)).toBe(true);
    expect(extra.every((s) => s.answered === undefined)).toBe(true);
    expect(held.every((s) => s.closedAt === undefined)).toBe(true);
  });
});
