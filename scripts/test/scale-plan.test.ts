import { describe, expect, it } from "vitest";
import {
  ACCOUNT_LIMITS,
  CLOUD_RUN_MAX_CONCURRENCY,
  DEPLOYED_CLOUD_RUN,
  MEMORYSTORE,
  planFor,
  SENDER_LIMITS,
  sendersNeeded,
  type PlanInput,
} from "../../bench/scalePlan.ts";
import { parseRedisInfo, redisDelta } from "../../bench/lib/redisInfo.ts";

const base: PlanInput = { targetPerSecond: 10_000, cpuMsPerRequest: 0.3, inFlightSeconds: 0.25, cloudRun: DEPLOYED_CLOUD_RUN };

describe("scale plan for a target rate", () => {
  it.each([
    // rate, CPU ms, in flight s, concurrency → vCPU·s/s, instances for CPU, for concurrency, instances, bound, concurrency for a CPU bound
    [10_000, 0.3, 0.25, 80, 3, 5, 53, 53, "concurrency", 834],
    [10_000, 0.3, 0.25, 1000, 3, 5, 5, 5, "cpu", 834],
    [10_000, 0.6, 0.1, 80, 6, 10, 21, 21, "concurrency", 167],
    [1_000, 0.25, 0.05, 80, 0.25, 1, 2, 2, "concurrency", 84],
    [100, 1, 0.01, 80, 0.1, 1, 1, 1, "cpu", 2],
    // At 2 s in flight even 1000 per instance leaves concurrency the bound: no setting makes it CPU-bound.
    [10_000, 0.2, 2, 1000, 2, 4, 34, 34, "concurrency", undefined],
  ] as const)(
    "%i/s at %f ms CPU, %f s in flight, concurrency %i → %f vCPU, %i (CPU) / %i (concurrency) → %i instances, %s-bound",
    (rate, cpu, inFlightS, concurrency, vcpu, forCpu, forConcurrency, instances, bound, cpuBoundAt) => {
      const plan = planFor({
        targetPerSecond: rate,
        cpuMsPerRequest: cpu,
        inFlightSeconds: inFlightS,
        cloudRun: { ...DEPLOYED_CLOUD_RUN, concurrency },
      });
      expect(plan.vcpuSecondsPerSecond).toBeCloseTo(vcpu, 9);
      expect(plan.instancesForCpu).toBe(forCpu);
      expect(plan.instancesForConcurrency).toBe(forConcurrency);
      expect(plan.instances).toBe(instances);
      expect(plan.bound).toBe(bound);
      expect(plan.concurrencyForCpuBound).toBe(cpuBoundAt);
      expect(plan.inFlight).toBeCloseTo(rate * inFlightS, 9);
    },
  );

  it("serves 0.6 vCPU's worth of requests per instance at the 60% CPU target", () => {
    expect(planFor(base).perInstanceAtCpuTarget).toBeCloseTo(2000, 9);
    expect(planFor({ ...base, cloudRun: { ...DEPLOYED_CLOUD_RUN, vcpuPerInstance: 2 } }).perInstanceAtCpuTarget).toBeCloseTo(4000, 9);
  });

  it("turns Redis work per request into operations, main-thread cores, bandwidth, clients and memory at the target", () => {
    const retained = [
      { bytesPerRequest: 200, seconds: 60 },
      { bytesPerRequest: 100, seconds: 600 },
    ];
    const plan = planFor({ ...base, redis: { commandsPerRequest: 4, cpuUsPerRequest: 25, bytesPerRequest: 1000, retained } });
    // 10,000/s × (200 B × 60 s + 100 B × 600 s) = 0.72 GB held at a steady rate.
    expect(plan.redis).toEqual({ opsPerSecond: 40_000, cores: 0.25, gbps: 0.08, clients: plan.instances, memoryGB: 0.72 });
    expect(planFor(base).redis).toBeUndefined();
  });

  it("refuses inputs that are not positive numbers, naming them", () => {
    expect(() => planFor({ ...base, cpuMsPerRequest: 0 })).toThrow(/cpuMsPerRequest/);
    expect(() => planFor({ ...base, targetPerSecond: Number.NaN })).toThrow(/targetPerSecond/);
    expect(() => planFor({ ...base, inFlightSeconds: -1 })).toThrow(/inFlightSeconds/);
    expect(() => planFor({ ...base, cloudRun: { ...DEPLOYED_CLOUD_RUN, concurrency: 0 } })).toThrow(/concurrency/);
  });

  it.each([0.05, 0.1, 0.25, 0.3])("at %f s in flight, the concurrency it names is the least that makes CPU the bound", (inFlightS) => {
    const at = (concurrency: number) =>
      planFor({ ...base, inFlightSeconds: inFlightS, cloudRun: { ...DEPLOYED_CLOUD_RUN, concurrency } });
    const least = at(80).concurrencyForCpuBound!;
    expect(least).toBeLessThanOrEqual(CLOUD_RUN_MAX_CONCURRENCY);
    expect(at(least).bound).toBe("cpu");
    expect(at(least).instances).toBe(at(least).instancesForCpu);
    if (least > 1) expect(at(least - 1).instancesForConcurrency).toBeGreaterThan(at(least - 1).instancesForCpu);
  });
});

describe("provider ceilings", () => {
  it.each([
    [10_000, 1, 1, 10_000],
    [10_000, 3, 1, 3334],
    [10_000, 100, 1, 100],
    [10_000, 1000, 1, 10],
    [10_000, 0.1, 1, 100_000],
    [10_000, 100, 2, 200],
    [150, 75, 1, 2],
  ])("%i OTPs/s at %f per sender and %i segment(s) each → %i senders", (rate, perSender, segments, senders) => {
    expect(sendersNeeded(rate, { perSenderPerSecond: perSender }, segments)).toBe(senders);
  });

  it("holds the figures as the providers publish them, each with its source", () => {
    const figure = (provider: string, sender: RegExp) =>
      SENDER_LIMITS.find((l) => l.provider === provider && sender.test(l.sender))?.perSenderPerSecond;
    expect(figure("Twilio", /^long code/)).toBe(1);
    expect(figure("Twilio", /^toll-free/)).toBe(3);
    expect(figure("Twilio", /^short code/)).toBe(100);
    expect(figure("Telnyx", /^short code/)).toBe(1000);
    expect(figure("Telnyx", /^toll-free/)).toBe(20);
    expect(ACCOUNT_LIMITS.find((l) => l.provider === "Telnyx")?.perSecond).toBe(50);
    for (const l of [...SENDER_LIMITS, ...ACCOUNT_LIMITS]) expect(l.source).toMatch(/^https:\/\//);
    expect(MEMORYSTORE.opsPerSecond).toBeUndefined();
  });
});

describe("redis-server INFO deltas", () => {
  const info = (scripts: number, cpu: number, bytes: number) =>
    [
      "# Stats",
      `total_commands_processed:${scripts * 4 + 9}`,
      `total_net_input_bytes:${bytes}`,
      `total_net_output_bytes:${bytes * 2}`,
      "# CPU",
      `used_cpu_sys:${cpu / 2}`,
      `used_cpu_user:${cpu / 2}`,
      "# Commandstats",
      `cmdstat_evalsha:calls=${scripts},usec=10,usec_per_call=1.00,rejected_calls=0,failed_calls=0`,
      `cmdstat_get:calls=${scripts * 3},usec=10,usec_per_call=1.00,rejected_calls=0,failed_calls=0`,
      "cmdstat_info:calls=7,usec=10,usec_per_call=1.00,rejected_calls=0,failed_calls=0",
      "cmdstat_client|setinfo:calls=2,usec=1,usec_per_call=0.50,rejected_calls=0,failed_calls=0",
    ].join("\r\n");

  it("reads the counters and leaves out INFO itself", () => {
    expect(parseRedisInfo(info(10, 1.5, 1000))).toEqual({
      callsByCommand: { evalsha: 10, get: 30, "client|setinfo": 2 },
      cpuS: 1.5,
      netBytes: 3000,
    });
  });

  it("counts script calls apart from the commands they ran, over the span between two snapshots", () => {
    const delta = redisDelta(parseRedisInfo(info(10, 1.5, 1000)), parseRedisInfo(info(40, 2, 4000)));
    expect(delta).toEqual({ scripts: 30, commands: 120, cpuUs: 500_000, netBytes: 9000 });
  });

  it("refuses text that is not INFO output", () => {
    expect(() => parseRedisInfo("hello")).toThrow(/INFO/);
  });
});
