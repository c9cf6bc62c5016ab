// The mock suites import infra/ through vitest, which would happily load a program the Pulumi CLI cannot.
// This suite starts node the way the Node language host does for this project — the `nodeargs` and the
// PULUMI_NODEJS_TYPESCRIPT switch read from Pulumi.yaml (pulumi-language-nodejs main.go: execRuntime), working
// directory infra/ — and runs @pulumi/pulumi's cmd/run `run()` against mocks, on the machine's Node and on Node 24.

import { execFile, execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { parse } from "yaml";
import { node24 } from "./node24.js";
import { BASE_CONFIG, SECRET_KEYS } from "./program.js";

const repoRoot = fileURLToPath(new URL("../..", import.meta.url));
const fixture = fileURLToPath(new URL("./fixtures/runLikePulumiCli.cjs", import.meta.url));
const project = parse(readFileSync(path.join(repoRoot, "Pulumi.yaml"), "utf8")) as {
  main: string;
  runtime: { name: string; options: { typescript?: boolean; nodeargs?: string } };
};


/** main.go splits `nodeargs` with shlex; plain space-separated options are all this project uses. */
function nodeArgs(): string[] {
  const raw = project.runtime.options.nodeargs ?? "";
  if (/["'\\]/.test(raw)) throw new Error("nodeargs with quotes: split it the way shlex does before extending this test");
  return raw.split(/\s+/).filter(Boolean);
}

function runLikeCli(node: string, config: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    TEST_CONFIG: JSON.stringify(config),
    TEST_SECRET_KEYS: JSON.stringify(SECRET_KEYS),
  };
  // The language host sets this only when Pulumi.yaml's `typescript` option is true (its default).
  if (project.runtime.options.typescript !== false) env.PULUMI_NODEJS_TYPESCRIPT = "true";
  return new Promise((resolve) => {
    execFile(
      node,
      [...nodeArgs(), fixture],
      { cwd: path.join(repoRoot, project.main), env, timeout: 60_000 },
      (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

describe("Pulumi.yaml's runtime", () => {
  test("loads TypeScript through tsx, not ts-node", () => {
    expect(project.runtime.name).toBe("nodejs");
    expect(project.runtime.options.typescript).toBe(false);
    expect(nodeArgs()).toEqual(["--import", "tsx"]);
    expect(project.main).toBe("infra/");
  });
});

const NODE24 = node24();
describe.each([
  ["the machine's Node", process.execPath],
  ["Node 24", NODE24],
])("the program as the Pulumi CLI loads it, on %s", (_, node) => {
  test.skipIf(node === undefined)("registers every resource, exports the outputs, never loads ts-node and prints nothing to stderr", { timeout: 60_000 }, async () => {
    const { code, stdout, stderr } = await runLikeCli(node!, BASE_CONFIG);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const result = JSON.parse(stdout.trim().split("\n").at(-1)!);
    expect(result.node).toBe(execFileSync(node!, ["--version"], { encoding: "utf8" }).trim());
    expect(result.cwd).toMatch(/infra$/);
    expect(result.tsNodeLoaded).toBe(false);
    expect(result.resources).toEqual(
      expect.arrayContaining([
        "mosaic-sms-gateway:index:SmsGateway::sms-gateway",
        "gcp:cloudrunv2/service:Service::sms-gateway",
        "docker-build:index:Image::sms-gateway-image",
        "command:local:Command::mosaic-register",
        "time:index/sleep:Sleep::sms-gateway-accepted-api-keys-iam-propagation",
      ]),
    );
    expect(result.outputs.sort()).toEqual([
      "acceptedApiKeysSecretVersion",
      "address",
      "apiKeyGeneration",
      "apiKeySecret",
      "apiKeySecretVersion",
      "certificateName",
      "image",
      "monitoring",
      "mosaicRegistered",
      "providerSecretVersions",
      "regions",
      "service",
      "serviceAccount",
      "url",
    ]);
    // The command provider and the image build resolve these from the same working directory, infra/.
    expect(result.paths).toEqual({ commandDir: "..", imageContext: ".." });
  });

  test.skipIf(node === undefined)("a config error surfaces naming the key", { timeout: 60_000 }, async () => {
    const { ["gcp:project"]: _, ...config } = BASE_CONFIG;
    const { code, stdout, stderr } = await runLikeCli(node!, config);
    expect(code).not.toBe(0);
    expect(stdout + stderr).toContain("gcp:project is required");
  });
});
