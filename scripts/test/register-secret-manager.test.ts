import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMosaicEmulator, type MosaicEmulator } from "../emulators/mosaic.ts";
import { ExitCode } from "../register/exit-codes.ts";
import { createSecretReader } from "../register/secret.ts";
import { runCli } from "./support/run-cli.ts";
import { startSecretManagerServer } from "./support/secret-manager-server.ts";
import { startStubGateway } from "./support/stub-gateway.ts";

const VERSION = "projects/demo/secrets/gateway-api-key/versions/3";
const API_KEY = "key-from-secret-manager-77aa";
const CLIENT_SECRET = "client-secret-abc123";

let sm: Awaited<ReturnType<typeof startSecretManagerServer>>;
let mosaic: MosaicEmulator;
let gw: Awaited<ReturnType<typeof startStubGateway>>;

beforeAll(async () => {
  // The trailing newline is what `echo key | gcloud secrets create` stores.
  sm = await startSecretManagerServer({ [VERSION]: `${API_KEY}\n` });
  mosaic = await startMosaicEmulator({ clientId: "app", clientSecret: CLIENT_SECRET });
  gw = await startStubGateway({ apiKey: API_KEY });
});
afterAll(async () => {
  await Promise.all([sm.close(), mosaic.close(), gw.close()]);
});

const env = () => ({ MOSAIC_BASE_URL: mosaic.url, MOSAIC_CLIENT_ID: "app", MOSAIC_CLIENT_SECRET: CLIENT_SECRET, GATEWAY_URI: gw.uri });

describe("API key from Secret Manager (real client, loopback gRPC server)", () => {
  it("reads the version with AccessSecretVersion and registers with it, never printing it", async () => {
    const run = await runCli(["--api-key-secret", VERSION], env(), { readSecret: createSecretReader(sm.clientOptions) });
    expect(run.code).toBe(ExitCode.Done);
    expect(sm.calls.map((c) => c.name)).toContain(VERSION);
    expect(mosaic.provider()).toMatchObject({ provider: "CustomGateway", apiKey: API_KEY });
    expect(run.stdout[0]).toContain(`API key from Secret Manager ${VERSION}`);
    expect(run.all).not.toContain(API_KEY);
    expect(run.all).not.toContain(CLIENT_SECRET);
  });

  it("exits 2 with the server's reason when the version does not exist", async () => {
    const missing = "projects/demo/secrets/nope/versions/1";
    const run = await runCli(["--api-key-secret", missing], env(), { readSecret: createSecretReader(sm.clientOptions) });
    expect(run.code).toBe(ExitCode.BadInput);
    expect(run.stderr.join("\n")).toMatch(/could not read the API key from Secret Manager .*not found/);
  });

  it("exits 6 when Secret Manager is unreachable", async () => {
    const closed = await startSecretManagerServer({});
    await closed.close();
    const read = createSecretReader(closed.clientOptions, { timeoutMs: 300 });
    const run = await runCli(["--api-key-secret", VERSION], env(), { readSecret: read });
    expect(run.code).toBe(ExitCode.Network);
  });
});
