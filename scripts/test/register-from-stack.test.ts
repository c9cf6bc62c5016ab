import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMosaicEmulator, type MosaicEmulator } from "../emulators/mosaic.ts";
import { ExitCode } from "../register/exit-codes.ts";
import { pickStackValues, readStackOutputs, runCommand, type CommandRunner } from "../register/stack.ts";
import { runCli } from "./support/run-cli.ts";
import { startStubGateway } from "./support/stub-gateway.ts";

const API_KEY = "stack-api-key-5566";
const CLIENT_SECRET = "client-secret-xyz987";

let mosaic: MosaicEmulator;
let gw: Awaited<ReturnType<typeof startStubGateway>>;
beforeAll(async () => {
  mosaic = await startMosaicEmulator({ clientId: "app", clientSecret: CLIENT_SECRET });
  gw = await startStubGateway({ apiKey: API_KEY });
});
afterAll(async () => {
  await Promise.all([mosaic.close(), gw.close()]);
});
const env = () => ({ MOSAIC_BASE_URL: mosaic.url, MOSAIC_CLIENT_ID: "app", MOSAIC_CLIENT_SECRET: CLIENT_SECRET });

describe("--from-stack", () => {
  it.each([
    [{ gatewayUri: "https://a/send-sms", gatewayApiKey: "k" }, { gatewayUri: "https://a/send-sms", apiKey: "k" }],
    [{ gatewayUrl: "https://b/send-sms", apiKeySecretVersion: "projects/p/secrets/s/versions/1" }, { gatewayUri: "https://b/send-sms", apiKeySecret: "projects/p/secrets/s/versions/1" }],
    // This repository's stack outputs (infra/index.ts).
    [{ url: "https://c/send-sms", apiKey: "k2", apiKeySecretVersion: "projects/p/secrets/s/versions/2", image: "x" }, { gatewayUri: "https://c/send-sms", apiKey: "k2", apiKeySecret: "projects/p/secrets/s/versions/2" }],
    [{ serviceAccount: "sa", gatewayApiKey: "" }, {}],
  ])("picks values from outputs %j", (outputs, expected) => {
    expect(pickStackValues(outputs)).toEqual(expected);
  });

  it("runs `pulumi stack output --json --show-secrets --stack NAME` and registers with its values, printing no secret", async () => {
    const calls: (readonly string[])[] = [];
    const runner: CommandRunner = async (file, args) => {
      calls.push([file, ...args]);
      return { code: 0, stdout: JSON.stringify({ gatewayUri: gw.uri, gatewayApiKey: API_KEY }), stderr: "" };
    };
    const run = await runCli(["--from-stack", "dev"], env(), { runCommand: runner });
    expect(run.code).toBe(ExitCode.Done);
    expect(calls).toEqual([["pulumi", "stack", "output", "--json", "--show-secrets", "--stack", "dev"]]);
    expect(mosaic.provider()).toEqual({ provider: "CustomGateway", uri: gw.uri, apiKey: API_KEY });
    expect(run.all).not.toContain(API_KEY);
  });

  it("lets GATEWAY_URI / GATEWAY_API_KEY override the stack's outputs", async () => {
    const runner: CommandRunner = async () => ({ code: 0, stdout: JSON.stringify({ gatewayUri: "https://elsewhere.example/send-sms", gatewayApiKey: "other" }), stderr: "" });
    const run = await runCli(["--from-stack", "--dry-run"], { ...env(), GATEWAY_URI: gw.uri, GATEWAY_API_KEY: API_KEY }, { runCommand: runner });
    expect(run.code).toBe(ExitCode.Done);
    expect(run.stdout[0]).toContain(`gateway ${gw.uri}, API key from GATEWAY_API_KEY`);
  });

  it("exits 2 naming the missing outputs", async () => {
    const runner: CommandRunner = async () => ({ code: 0, stdout: "{}", stderr: "" });
    const run = await runCli(["--from-stack"], env(), { runCommand: runner });
    expect(run.code).toBe(ExitCode.BadInput);
    expect(run.stderr.join("\n")).toMatch(/no gateway URI output.*no API key output/);
  });

  describe("with a fake `pulumi` executable on PATH (the real runner)", () => {
    let dir: string;
    const savedPath = process.env.PATH;
    beforeAll(async () => {
      dir = await mkdtemp(path.join(tmpdir(), "fake-pulumi-"));
      const script = `#!/bin/sh
echo "$@" > "${dir}/args"
if [ "$5" = "--stack" ] && [ "$6" = "missing" ]; then echo "error: no stack named 'missing' found" >&2; exit 255; fi
printf '%s' '{"url":"${gw.uri}","apiKey":"${API_KEY}"}'
`;
      await writeFile(path.join(dir, "pulumi"), script);
      await chmod(path.join(dir, "pulumi"), 0o755);
      process.env.PATH = `${dir}${path.delimiter}${savedPath}`;
    });
    afterAll(async () => {
      process.env.PATH = savedPath;
      await rm(dir, { recursive: true, force: true });
    });

    it("reads the outputs through execFile", async () => {
      expect(await readStackOutputs(runCommand)).toEqual({ gatewayUri: gw.uri, apiKey: API_KEY });
    });

    it("exits 2 with pulumi's own error line when the stack does not exist", async () => {
      const run = await runCli(["--from-stack", "missing", "--json"], env(), { runCommand });
      expect(run.code).toBe(ExitCode.BadInput);
      expect(JSON.parse(run.stdout[0]!)).toMatchObject({ error: { message: "pulumi stack output failed: error: no stack named 'missing' found" } });
    });
  });
});
