// The mock suites import infra/ through vitest, which would happily load a program the Pulumi CLI cannot.
// This suite loads it the CLI's way instead: a fresh `node` running @pulumi/pulumi's cmd/run `run()` (ts-node/esm
// hooks, infra/tsconfig.json, working directory infra/), against mocks.

import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { BASE_CONFIG, SECRET_KEYS } from "./program.js";

const fixture = fileURLToPath(new URL("./fixtures/runLikePulumiCli.cjs", import.meta.url));

function runLikeCli(config: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [fixture],
      {
        env: { PATH: process.env.PATH, TEST_CONFIG: JSON.stringify(config), TEST_SECRET_KEYS: JSON.stringify(SECRET_KEYS) },
        timeout: 60_000,
      },
      (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

describe("the program as the Pulumi CLI loads it", () => {
  test("registers every resource and exports the outputs", { timeout: 60_000 }, async () => {
    const { code, stdout, stderr } = await runLikeCli(BASE_CONFIG);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const result = JSON.parse(stdout.trim().split("\n").at(-1)!);
    expect(result.cwd).toMatch(/infra$/);
    expect(result.resources).toEqual(
      expect.arrayContaining([
        "mosaic-sms-gateway:index:SmsGateway::sms-gateway",
        "gcp:cloudrunv2/service:Service::sms-gateway",
        "docker-build:index:Image::sms-gateway-image",
        "command:local:Command::mosaic-register",
      ]),
    );
    expect(result.outputs).toEqual(["apiKey", "apiKeySecret", "apiKeySecretVersion", "image", "mosaicRegistered", "serviceAccount", "url"]);
  });

  test("a config error surfaces naming the key", { timeout: 60_000 }, async () => {
    const { ["gcp:project"]: _, ...config } = BASE_CONFIG;
    const { code, stdout, stderr } = await runLikeCli(config);
    expect(code).not.toBe(0);
    expect(stdout + stderr).toContain("gcp:project is required");
  });
});
