import { describe, expect, it } from "vitest";
import { parseProcStatCpuMs } from "../../bench/lib/cpu.ts";
import { areaOf, moduleOf, summarizeProfile, type CpuProfile } from "../../bench/lib/cpuProfile.ts";
import { median, pairedDifference, pairedRatio } from "../../bench/lib/stats.ts";
import { othersCompeting } from "../../bench/lib/machine.ts";

describe("CPU time from /proc/<pid>/stat", () => {
  // proc(5): pid (comm) state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime stime …
  it("adds utime and stime, in ms at the given clock rate", () => {
    const stat = "4242 (node) S 1 4242 4242 0 -1 4194560 9000 0 3 0 1234 567 0 0 20 0 11 0 100 1000000 20000";
    expect(parseProcStatCpuMs(stat, 100)).toBe((1234 + 567) * 10);
    expect(parseProcStatCpuMs(stat, 1000)).toBe(1234 + 567);
  });

  it("reads past a command name with spaces and parentheses", () => {
    const stat = "77 (deno (main) x) R 1 77 77 0 -1 0 0 0 0 0 50 25 0 0 20 0 4 0 10 0 0";
    expect(parseProcStatCpuMs(stat, 100)).toBe(750);
  });

  it("refuses a line it cannot read", () => {
    expect(() => parseProcStatCpuMs("garbage", 100)).toThrow(/unreadable/);
  });
});

describe("paired statistics", () => {
  it("takes the median of per-round ratios and differences", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(pairedRatio([2, 4, 9], [1, 2, 3])).toBe(2);
    expect(pairedDifference([110, 130, 120], [100, 100, 100])).toBe(20);
  });
});

describe("CPU profile summary", () => {
  it("names modules and areas from source paths and URLs", () => {
    expect(moduleOf("node_modules/express/lib/router/index.js")).toBe("express");
    expect(moduleOf("node_modules/@scope/pkg/dist/a.js")).toBe("@scope/pkg");
    expect(moduleOf("gateway/src/app.ts")).toBe("gateway/src/app.ts");
    expect(areaOf("router")).toBe("Express 5 and its small dependencies");
    expect(areaOf("body-parser")).toBe("body parsing (body-parser, raw-body)");
    expect(areaOf("gateway/src/providers/twilio/httpClient.ts")).toBe("gateway: provider (transport, SDK glue)");
    expect(areaOf("node:_http_server")).toBe("Node http");
    expect(areaOf("(garbage collector)")).toBe("GC");
  });

  it("adds self time per function, leaves idle out of the shares, maps bundle positions to sources", () => {
    const profile: CpuProfile = {
      nodes: [
        { id: 1, callFrame: { functionName: "(root)", url: "", lineNumber: -1, columnNumber: -1 }, children: [2, 3, 5, 6] },
        { id: 2, callFrame: { functionName: "(idle)", url: "", lineNumber: -1, columnNumber: -1 } },
        { id: 3, callFrame: { functionName: "handle", url: "file:///b/gateway.mjs", lineNumber: 10, columnNumber: 4 }, children: [4, 7] },
        { id: 4, callFrame: { functionName: "parseE164", url: "file:///b/gateway.mjs", lineNumber: 20, columnNumber: 0 } },
        { id: 5, callFrame: { functionName: "(garbage collector)", url: "", lineNumber: -1, columnNumber: -1 } },
        { id: 6, callFrame: { functionName: "onread", url: "node:net", lineNumber: 3, columnNumber: 0 } },
        { id: 7, callFrame: { functionName: "end", url: "node:_http_outgoing", lineNumber: 9, columnNumber: 0 }, children: [8] },
        { id: 8, callFrame: { functionName: "writev", url: "", lineNumber: -1, columnNumber: -1 } },
      ],
      // Each sample gets the time until the next one: 3 → 30 µs, 4 → 10, 3 → 30, 5 → 30, idle → 100, then
      // writev (under handle → end) → 40 and Node's own onread → 10 (the last sample has no successor).
      samples: [3, 4, 3, 5, 2, 8, 6, 3],
      timeDeltas: [0, 30, 10, 30, 30, 100, 40, 10],
    };
    const md = summarizeProfile(profile, (_url, line) =>
      line === 10 ? { source: "node_modules/express/lib/router.js", line: 11 } : { source: "gateway/src/phone.ts", line: 21 },
    { title: "t", note: "n", requests: 2 });
    // busy = 30 + 10 + 30 + 30 + 40 + 10 = 150: handle 60 itself, writev 40, GC 30, parseE164 10, onread 10.
    expect(md).toContain("| Express 5 and its small dependencies | 40.0% | 30.0 |");
    expect(md).toContain("2 requests answered: 75.0 µs of the main thread per request");
    expect(md).toContain("| GC | 20.0% | 15.0 |");
    expect(md).toContain("| `writev` |  | native code (syscalls such as writev, JSON, RegExp) and V8 | 26.7% |");
    expect(md).toContain("| `parseE164` | `gateway/src/phone.ts:21` | gateway: app, logging, checks | 6.7% |");
    // By owner, writev and Node's end count for handle, which called them; onread had no owner but itself.
    expect(md).toContain("| `handle` | `node_modules/express/lib/router.js:11` | Express 5 and its small dependencies | 66.7% |");
    expect(md).toContain("| `onread` | `node:net:4` | Node net and streams | 6.7% |");
    expect(md).toContain("idle 0.0 s");
  });
});

describe("othersCompeting", () => {
  it.each([
    [[0.3, 1, 1.3], [1.5, 1.6, 1.6], false], // a quiet machine: the end load is the bench's own processes
    [[1.2, 1, 1], [1.5, 1, 1], true], // others already running at the start
    [[0.3, 1, 1], [2.6, 2, 2], true], // others joined during the run
  ])("2 cores, load %j at start and %j at end → %s", (start, end, busy) => {
    expect(othersCompeting(2, start, end)).toBe(busy);
  });
});
