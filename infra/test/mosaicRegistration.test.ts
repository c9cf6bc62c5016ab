// The registration step inside `pulumi up`: runs the repo's CLI after the service, runs it again (one PUT) when the
// URL or key changes, reverts only on delete, and keeps every secret out of command lines and logs.

import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, test } from "vitest";
import { REGISTER_COMMAND, REVERT_COMMAND } from "../mosaicRegistration.js";
import { FAKE_API_KEY } from "./mocks.js";
import { BASE_CONFIG, runProgram, unwrap, type ProgramRun } from "./program.js";

const COMMAND = "command:local:Command";
const SECRETS = [FAKE_API_KEY, BASE_CONFIG["mosaic-sms-gateway:mosaicClientSecret"]!, BASE_CONFIG["mosaic-sms-gateway:twilioAuthToken"]!];

describe("registerWithMosaic (default true)", () => {
  let run: ProgramRun;
  beforeAll(async () => {
    run = await runProgram();
  });

  test("one command registers on create and on update, and reverts only on delete", () => {
    const { inputs } = run.one(COMMAND);
    expect(inputs.create).toBe(REGISTER_COMMAND);
    expect(inputs.update).toBe(REGISTER_COMMAND);
    expect(inputs.delete).toBe(REVERT_COMMAND);
    expect(inputs.create).toBe("npm run --silent register -- --json");
    expect(REVERT_COMMAND).toContain("--revert");
  });

  test("it runs from the repository root, given relative to the program's working directory", () => {
    const { dir } = run.one(COMMAND).inputs;
    expect(path.isAbsolute(dir)).toBe(false);
    expect(path.resolve(process.cwd(), dir)).toBe(path.resolve(fileURLToPath(new URL("../..", import.meta.url))));
  });

  test("it depends on the Cloud Run service", () => {
    const service = run.one("gcp:cloudrunv2/service:Service");
    expect(run.one(COMMAND).dependencies).toContain(service.urn);
  });

  test("nothing replaces it: a new URL or key changes its environment, which the provider applies as an update", () => {
    const command = run.one(COMMAND);
    // `triggers` are replaceOnChanges in the SDK (revert, then register): none are set.
    expect(command.inputs.triggers).toBeUndefined();
    expect(command.replaceOnChanges).toEqual(["triggers[*]"]);
    // A forced replacement (`pulumi up --replace`) must still end registered: revert first, then register.
    expect(command.deleteBeforeReplace).toBe(true);
  });

  test("no secret appears in any command string", () => {
    const { inputs } = run.one(COMMAND);
    for (const field of ["create", "update", "delete"]) {
      const text = String(inputs[field] ?? "");
      for (const secret of SECRETS) expect(text).not.toContain(secret);
    }
    expect(JSON.stringify(inputs.interpreter ?? [])).not.toMatch(new RegExp(SECRETS.join("|")));
  });

  test("secrets travel in the environment, marked secret", () => {
    const env = unwrap(run.one(COMMAND).inputs.environment);
    expect(env.secret).toBe(true);
    expect(env.value).toEqual({
      MOSAIC_BASE_URL: "https://api.transmitsecurity.io",
      MOSAIC_CLIENT_ID: "mosaic-client-id",
      MOSAIC_CLIENT_SECRET: BASE_CONFIG["mosaic-sms-gateway:mosaicClientSecret"],
      GATEWAY_URI: "https://sms-gateway-test-abc123-uc.a.run.app/send-sms",
      GATEWAY_API_KEY: FAKE_API_KEY,
    });
  });

  test("its output is neither logged nor stored in plain text", () => {
    const command = run.one(COMMAND);
    expect(command.inputs.logging).toBe("none");
    expect(command.additionalSecretOutputs.sort()).toEqual(["stderr", "stdout"]);
  });
});

describe("registration config", () => {
  test("registerWithMosaic=false creates no command and needs no Mosaic credentials", async () => {
    const run = await runProgram({
      "mosaic-sms-gateway:registerWithMosaic": "false",
      "mosaic-sms-gateway:mosaicClientId": undefined,
      "mosaic-sms-gateway:mosaicClientSecret": undefined,
    });
    expect(run.byType(COMMAND)).toEqual([]);
    expect(run.outputs.mosaicRegistered).toBe(false);
  });

  test("mosaicRegion picks the region's base URL", async () => {
    const run = await runProgram({ "mosaic-sms-gateway:mosaicRegion": "eu" });
    expect(unwrap(run.one(COMMAND).inputs.environment).value.MOSAIC_BASE_URL).toBe("https://api.eu.transmitsecurity.io");
  });

  test("missing client credentials are named", async () => {
    await expect(
      runProgram({ "mosaic-sms-gateway:mosaicClientId": undefined, "mosaic-sms-gateway:mosaicClientSecret": undefined }),
    ).rejects.toThrow(
      "mosaic-sms-gateway:mosaicClientId and mosaic-sms-gateway:mosaicClientSecret are required while mosaic-sms-gateway:registerWithMosaic is true",
    );
  });
});
