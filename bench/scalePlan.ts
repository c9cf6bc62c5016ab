/**
 * The scale model's arithmetic (issue 14): what a target rate of OTPs per second takes, from figures measured on
 * this machine (CPU per request, Redis work per request) and figures the platforms publish (below, each with its
 * source). Pure: bench/scale.ts measures and calls it; scripts/test/scale-plan.test.ts pins it with tables.
 */

/** How the gateway runs on Cloud Run, and how Cloud Run's autoscaler sizes it. */
export interface CloudRunShape {
  /** vCPU per instance: infra/smsGateway.ts deploys `limits: { cpu: "1" }`. */
  vcpuPerInstance: number;
  /** Requests an instance takes at once: infra/config.ts `concurrency`, default 80 (also the gateway's CONCURRENCY). */
  concurrency: number;
  /**
   * The autoscaler keeps instances at this share of their CPU and of their concurrency: 60% for both by default
   * (https://cloud.google.com/run/docs/configuring/scaling-controls, .../about-instance-autoscaling).
   */
  cpuTarget: number;
  concurrencyTarget: number;
}

/** Cloud Run accepts at most this many concurrent requests per instance (https://cloud.google.com/run/docs/about-concurrency). */
export const CLOUD_RUN_MAX_CONCURRENCY = 1000;

export const DEPLOYED_CLOUD_RUN: CloudRunShape = { vcpuPerInstance: 1, concurrency: 80, cpuTarget: 0.6, concurrencyTarget: 0.6 };
/** infra/config.ts `maxInstances` default: a burst beyond it queues at Cloud Run, then gets 429s. */
export const DEPLOYED_MAX_INSTANCES = 10;
/** infra/protection.ts defaults for `sharedState: redis`: Memorystore BASIC tier, `redisMemorySizeGb` 1. */
export const DEPLOYED_REDIS_GB = 1;

/** What the Redis store costs per request, measured against a real redis-server (INFO deltas). */
export interface RedisCost {
  /** Commands clients sent (a script call counts once), per request. */
  commandsPerRequest: number;
  /** redis-server CPU (used_cpu_user + used_cpu_sys) per request, µs. */
  cpuUsPerRequest: number;
  /** Bytes in + out of redis-server per request. */
  bytesPerRequest: number;
  /** What each request leaves in Redis, by kind of key: its size and how long it stays (the key's window). */
  retained: { bytesPerRequest: number; seconds: number }[];
}

export interface PlanInput {
  targetPerSecond: number;
  /** CPU of the gateway process per request (user + system), ms. */
  cpuMsPerRequest: number;
  /** Seconds a request holds one of an instance's concurrency slots: the provider's answer time plus the gateway's. */
  inFlightSeconds: number;
  cloudRun: CloudRunShape;
  redis?: RedisCost;
}

export interface Plan {
  /** CPU the target takes, in vCPU-seconds per second (= vCPUs busy all the time). */
  vcpuSecondsPerSecond: number;
  /** Requests per second one instance serves at the CPU target. */
  perInstanceAtCpuTarget: number;
  instancesForCpu: number;
  /** Requests in flight at once (Little's law: rate × time in flight). */
  inFlight: number;
  instancesForConcurrency: number;
  /** The larger of the two: what the autoscaler settles on. */
  instances: number;
  bound: "cpu" | "concurrency";
  /**
   * The smallest concurrency setting at which CPU, not concurrency, sets the instance count; undefined when even
   * Cloud Run's maximum (1000) leaves concurrency the bound.
   */
  concurrencyForCpuBound: number | undefined;
  redis?: {
    opsPerSecond: number;
    /** redis-server main-thread cores the target keeps busy: a single Redis primary runs commands on one thread. */
    cores: number;
    gbps: number;
    /** ioredis holds one connection per gateway instance. */
    clients: number;
    /** Memory the keys take at a steady rate: each kind's bytes per request × rate × its window. */
    memoryGB: number;
  };
}

function positive(name: string, n: number): void {
  if (!(Number.isFinite(n) && n > 0)) throw new RangeError(`${name} must be a positive number, got ${n}`);
}

export function planFor(input: PlanInput): Plan {
  const { targetPerSecond: rate, cpuMsPerRequest, inFlightSeconds, cloudRun } = input;
  positive("targetPerSecond", rate);
  positive("cpuMsPerRequest", cpuMsPerRequest);
  positive("inFlightSeconds", inFlightSeconds);
  positive("vcpuPerInstance", cloudRun.vcpuPerInstance);
  positive("concurrency", cloudRun.concurrency);
  positive("cpuTarget", cloudRun.cpuTarget);
  positive("concurrencyTarget", cloudRun.concurrencyTarget);

  const vcpuSecondsPerSecond = (rate * cpuMsPerRequest) / 1000;
  const cpuPerInstance = cloudRun.vcpuPerInstance * cloudRun.cpuTarget;
  const instancesForCpu = Math.ceil(vcpuSecondsPerSecond / cpuPerInstance - 1e-9);
  const inFlight = rate * inFlightSeconds;
  const slotsPerInstance = cloudRun.concurrency * cloudRun.concurrencyTarget;
  const instancesForConcurrency = Math.ceil(inFlight / slotsPerInstance - 1e-9);
  const instances = Math.max(instancesForCpu, instancesForConcurrency, 1);
  const needed = Math.ceil(inFlight / (Math.max(instancesForCpu, 1) * cloudRun.concurrencyTarget) - 1e-9);
  const redis = input.redis && {
    opsPerSecond: rate * input.redis.commandsPerRequest,
    cores: (rate * input.redis.cpuUsPerRequest) / 1e6,
    gbps: (rate * input.redis.bytesPerRequest * 8) / 1e9,
    clients: instances,
    memoryGB: input.redis.retained.reduce((sum, k) => sum + rate * k.bytesPerRequest * k.seconds, 0) / 1e9,
  };
  return {
    vcpuSecondsPerSecond,
    perInstanceAtCpuTarget: (cpuPerInstance * 1000) / cpuMsPerRequest,
    instancesForCpu,
    inFlight,
    instancesForConcurrency,
    instances,
    bound: instancesForConcurrency > instancesForCpu ? "concurrency" : "cpu",
    concurrencyForCpuBound: needed <= CLOUD_RUN_MAX_CONCURRENCY ? Math.max(needed, 1) : undefined,
    ...(redis && { redis }),
  };
}

/** A provider's published send rate for one kind of sender. */
export interface SenderLimit {
  provider: "Twilio" | "Telnyx";
  sender: string;
  /** Message segments per second per sender (an OTP of ≤160 GSM-7 characters is one segment). */
  perSenderPerSecond: number;
  /** What the figure does not say (raises on request, carrier rules). */
  note: string;
  source: string;
}

const TWILIO_QUEUES = "https://support.twilio.com/hc/en-us/articles/115002943027-Understanding-Twilio-Rate-Limits-and-Message-Queues";
const TWILIO_TOLL_FREE = "https://support.twilio.com/hc/en-us/articles/4411046744987-Toll-Free-SMS-and-MMS-messaging-throughput-MPS";
const TELNYX_RATES = "https://developers.telnyx.com/docs/messaging/messages/rate-limiting";

/** The providers' default per-sender throughput, as they publish it. */
export const SENDER_LIMITS: readonly SenderLimit[] = [
  {
    provider: "Twilio",
    sender: "long code → US/CA",
    perSenderPerSecond: 1,
    note: "for US A2P 10DLC the carriers set throughput per campaign instead (see the 10DLC row)",
    source: TWILIO_QUEUES,
  },
  {
    provider: "Twilio",
    sender: "toll-free → US/CA",
    perSenderPerSecond: 3,
    note: "High-Throughput Toll-Free 25–150 per number on request; several numbers for one use case is not allowed",
    source: TWILIO_TOLL_FREE,
  },
  { provider: "Twilio", sender: "short code → US/CA/UK", perSenderPerSecond: 100, note: "more on request", source: TWILIO_QUEUES },
  {
    provider: "Twilio",
    sender: "any number or alphanumeric → other countries",
    perSenderPerSecond: 10,
    note: "per sender",
    source: TWILIO_QUEUES,
  },
  {
    provider: "Telnyx",
    sender: "long code (non-US destinations)",
    perSenderPerSecond: 0.1,
    note: "US destinations: per 10DLC campaign",
    source: TELNYX_RATES,
  },
  { provider: "Telnyx", sender: "toll-free", perSenderPerSecond: 20, note: "per number", source: TELNYX_RATES },
  { provider: "Telnyx", sender: "short code", perSenderPerSecond: 1000, note: "per number", source: TELNYX_RATES },
  { provider: "Telnyx", sender: "alphanumeric", perSenderPerSecond: 0.1, note: "per sender ID", source: TELNYX_RATES },
  {
    provider: "Telnyx",
    sender: "US 10DLC campaign, AT&T class A/B (any provider: carrier-set)",
    perSenderPerSecond: 4500 / 60,
    note: "4,500 SMS per minute per campaign at vetting score 75–100; T-Mobile caps per brand per day",
    source: TELNYX_RATES,
  },
];

/** Limits on the whole account, beyond each sender's. */
export interface AccountLimit {
  provider: "Twilio" | "Telnyx";
  what: string;
  /** Undefined where the provider does not publish a number. */
  perSecond: number | undefined;
  note: string;
  source: string;
}

export const ACCOUNT_LIMITS: readonly AccountLimit[] = [
  {
    provider: "Telnyx",
    what: "SMS per account, default",
    perSecond: 50,
    note: "raised by Telnyx sales; messages beyond it queue (4 h at most), they are not refused",
    source: TELNYX_RATES,
  },
  {
    provider: "Twilio",
    what: "REST API requests in flight per account",
    perSecond: undefined,
    note: "no figure published: past it Twilio answers 429 / 20429 (the gateway retries within the deadline)",
    source: "https://www.twilio.com/docs/api/errors/20429",
  },
];

/** Senders of one kind that together carry `targetPerSecond` OTPs of `segments` segments each. */
export function sendersNeeded(targetPerSecond: number, limit: Pick<SenderLimit, "perSenderPerSecond">, segments = 1): number {
  positive("targetPerSecond", targetPerSecond);
  positive("segments", segments);
  return Math.ceil((targetPerSecond * segments) / limit.perSenderPerSecond - 1e-9);
}

/**
 * What Google publishes about Memorystore for Redis capacity. There is no operations-per-second figure for the
 * Basic or Standard tier: Google's guidance is to benchmark the workload
 * (https://cloud.google.com/blog/products/databases/performance-tuning-best-practices-for-memorystore-for-redis).
 */
export const MEMORYSTORE = {
  opsPerSecond: undefined,
  maxNetworkGbps: 16,
  maxClients: 65_000,
  sources: [
    "https://cloud.google.com/memorystore/docs/redis/redis-tiers (max network bandwidth 16 Gbps)",
    "https://cloud.google.com/memorystore/docs/redis/quotas (65,000 connected clients per instance)",
  ],
} as const;
