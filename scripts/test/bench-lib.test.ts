import { describe, expect, it } from "vitest";
import { parseProcStatCpuMs } from "../../bench/lib/cpu.ts";
import { median, pairedDifference, pairedRatio } from "../../bench/lib/stats.ts";
import { startRedis } from "../../bench/lib/redis.ts";
import { connect } from "node:net";

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

describe("throwaway redis-server for the bench's Redis rows", () => {
  it("answers PING on its loopback port, and is gone once stopped", async () => {
    const redis = await startRedis();
    const ping = () =>
      new Promise<string>((resolve, reject) => {
        const socket = connect(redis.port, "127.0.0.1");
        socket.once("connect", () => socket.write("PING\r\n"));
        socket.once("data", (d) => {
          socket.destroy();
          resolve(d.toString());
        });
        socket.once("error", reject);
      });
    try {
      expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
      expect(await ping()).toBe("+PONG\r\n");
    } finally {
      await redis.stop();
    }
    await expect(ping()).rejects.toThrow(/ECONNREFUSED/);
  });
});
