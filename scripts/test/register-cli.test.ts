import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startMosaicEmulator, type MosaicEmulator } from "../emulators/mosaic.ts";
import { ExitCode } from "../register/exit-codes.ts";
import { npmRun, runCli } from "./support/run-cli.ts";
import { startStubGateway } from "./support/stub-gateway.ts";

const CLIENT_SECRET = "client-secret-9f8e7d";
const API_KEY = "gateway-api-key-1a2b3c";

let mosaic: MosaicEmulator;
let closers: (() => Promise<void>)[] = [];

beforeEach(async () => {
  mosaic = await startMosaicEmulator({ clientId: "mgmt-app", clientSecret: CLIENT_SECRET });
  closers = [() => mosaic.close()];
});
afterEach(async () => {
  await Promise.all(closers.map((c) => c()));
});

async function gateway(options: Partial<Parameters<typeof startStubGateway>[0]> = {}) {
  const stub = await startStubGateway({ apiKey: API_KEY, ...options });
  closers.push(stub.close);
  return stub;
}

function env(uri: string, overrides: Record<string, string | undefined> = {}) {
  return {
    MOSAIC_BASE_URL: mosaic.url,
    MOSAIC_CLIENT_ID: "mgmt-app",
    MOSAIC_CLIENT_SECRET: CLIENT_SECRET,
    GATEWAY_URI: uri,
    GATEWAY_API_KEY: API_KEY,
    ...overrides,
  };
}

/** Records the token endpoint's answers, so a test can assert the issued token is never printed. */
function recordingFetch(seen: string[]): typeof fetch {
  return async (input, init) => {
    const res = await fetch(input, init);
    if (String(input).endsWith("/oidc/token")) seen.push(await res.clone().text());
    return res;
  };
}

describe("register CLI against the Mosaic emulator", () => {
  it("registers the gateway: token, preflight, PUT, confirmed; nothing secret printed", async () => {
    const gw = await gateway();
    const tokenBodies: string[] = [];
    const run = await runCli([], env(gw.uri), { fetch: recordingFetch(tokenBodies) });
    expect(run.code).toBe(ExitCode.Done);
    expect(mosaic.provider()).toEqual({ provider: "CustomGateway", uri: gw.uri, apiKey: API_KEY });
    expect(run.stdout.map((l) => l.split(/\s+/)[1])).toEqual(["input", "token", "preflight", "register", "confirmed"]);
    // The gateway saw the CLI's two preflight GETs and then Mosaic's own challenge.
    const gets = gw.requests.filter((r) => r.method === "GET");
    expect(gets).toHaveLength(3);
    expect(gets[0]!.headers).toMatchObject({ "x-api-key": API_KEY, "x-scheme": "https", accept: "application/json, text/plain, */*" });
    expect(gets[1]!.headers["x-api-key"]).not.toBe(API_KEY);
    expect(gets[2]!.headers["content-length"]).toBe("0");
    const token = (JSON.parse(tokenBodies[0]!) as { access_token: string }).access_token;
    for (const secret of [CLIENT_SECRET, API_KEY, token]) expect(run.all).not.toContain(secret);
  });

  it("exits 3 when Mosaic refuses the client secret, and does not touch the gateway", async () => {
    const gw = await gateway();
    const run = await runCli([], env(gw.uri, { MOSAIC_CLIENT_SECRET: "wrong-secret-value" }));
    expect(run.code).toBe(ExitCode.CredentialsRefused);
    expect(run.stderr.join("\n")).toMatch(/refused the client credentials: 401 invalid client credentials/);
    expect(gw.requests).toHaveLength(0);
    expect(mosaic.provider()).toEqual({ provider: "Default" });
    expect(run.all).not.toContain("wrong-secret-value");
  });

  it("exits 4 when the gateway is down, before asking Mosaic to register", async () => {
    const gw = await gateway();
    await gw.close();
    const run = await runCli(["--retries", "1"], env(gw.uri));
    expect(run.code).toBe(ExitCode.PreflightFailed);
    expect(run.stderr.join("\n")).toMatch(/did not answer the challenge: ECONNREFUSED after 2 attempt/);
    expect(mosaic.requests.map((r) => r.path)).toEqual(["/oidc/token"]);
  });

  it("exits 4 when the gateway echoes the wrong verification key", async () => {
    const gw = await gateway({ echo: "wrong" });
    const run = await runCli([], env(gw.uri));
    expect(run.code).toBe(ExitCode.PreflightFailed);
    expect(run.stderr.join("\n")).toMatch(/echoed a different verification key/);
    expect(mosaic.provider().provider).toBe("Default");
  });

  it("exits 4 when the gateway accepts a wrong API key", async () => {
    const gw = await gateway({ acceptAnyKey: true });
    const run = await runCli([], env(gw.uri));
    expect(run.code).toBe(ExitCode.PreflightFailed);
    expect(run.stderr.join("\n")).toMatch(/answered 200 to a wrong API key/);
  });

  it("exits 5 when Mosaic's own handshake fails (the gateway changed its answer after the preflight)", async () => {
    const gw = await gateway();
    const run = await runCli([], env(gw.uri), {
      fetch: async (input, init) => {
        if (init?.method === "PUT") gw.setEcho("wrong");
        return fetch(input, init);
      },
    });
    expect(run.code).toBe(ExitCode.RegistrationRefused);
    expect(run.stderr.join("\n")).toMatch(/refused the registration or its handshake: 400 custom gateway validation failed/);
    expect(run.stdout.at(-1)).toMatch(/✘ confirmed/);
    expect(mosaic.provider().provider).toBe("Default");
  });

  it("retries Mosaic's 500 and then succeeds (exit 0)", async () => {
    const gw = await gateway();
    mosaic.failNext("providers", 1, 500);
    mosaic.failNext("token", 2, 503);
    const run = await runCli([], env(gw.uri));
    expect(run.code).toBe(ExitCode.Done);
    expect(mosaic.requests.map((r) => `${r.path} ${r.status}`)).toEqual([
      "/oidc/token 503",
      "/oidc/token 503",
      "/oidc/token 200",
      "/cis/v1/tenantsmsproviders 500",
      "/cis/v1/tenantsmsproviders 200",
    ]);
    expect(run.stderr.filter((l) => l.includes("retrying"))).toHaveLength(3);
  });

  it("exits 6 when Mosaic keeps failing after the retries", async () => {
    const gw = await gateway();
    mosaic.failNext("token", 10, 502);
    const run = await runCli(["--retries", "2"], env(gw.uri));
    expect(run.code).toBe(ExitCode.Network);
    expect(mosaic.requests).toHaveLength(3);
  });

  it("never retries a 4xx", async () => {
    const gw = await gateway();
    mosaic.failNext("providers", 1, 409);
    const run = await runCli([], env(gw.uri));
    expect(run.code).toBe(ExitCode.RegistrationRefused);
    expect(mosaic.requests.filter((r) => r.path === "/cis/v1/tenantsmsproviders")).toHaveLength(1);
  });

  it("exits 6 when a request times out on every attempt", async () => {
    const hang = http.createServer(() => undefined);
    await new Promise<void>((r) => hang.listen(0, "127.0.0.1", () => r()));
    closers.push(() => new Promise((r) => { hang.closeAllConnections(); hang.close(() => r()); }));
    const gw = await gateway();
    const base = `http://127.0.0.1:${(hang.address() as AddressInfo).port}`;
    const run = await runCli(["--timeout-ms", "50", "--retries", "1"], env(gw.uri, { MOSAIC_BASE_URL: base }));
    expect(run.code).toBe(ExitCode.Network);
    expect(run.stderr.join("\n")).toMatch(/timed out after 2 attempt/);
  });

  it("--dry-run stops after the preflight and changes nothing", async () => {
    const gw = await gateway();
    const run = await runCli(["--dry-run"], env(gw.uri));
    expect(run.code).toBe(ExitCode.Done);
    expect(mosaic.requests.map((r) => r.path)).toEqual(["/oidc/token"]);
    expect(run.stdout.at(-1)).toMatch(/register\s+dry run/);
  });

  it("--revert sets the tenant back to Default without needing the gateway", async () => {
    const gw = await gateway();
    expect((await runCli([], env(gw.uri))).code).toBe(0);
    const run = await runCli(["--revert"], { MOSAIC_BASE_URL: mosaic.url, MOSAIC_CLIENT_ID: "mgmt-app", MOSAIC_CLIENT_SECRET: CLIENT_SECRET });
    expect(run.code).toBe(ExitCode.Done);
    expect(mosaic.provider()).toEqual({ provider: "Default" });
    expect(run.stdout.at(-1)).toMatch(/revert\s+tenant SMS provider set back to Default/);
  });

  it("--json prints exactly one JSON line, with no secrets, on success and on failure", async () => {
    const gw = await gateway();
    const good = await runCli(["--json"], env(gw.uri));
    expect(good.stderr).toEqual([]);
    expect(good.stdout).toHaveLength(1);
    expect(JSON.parse(good.stdout[0]!)).toMatchObject({
      ok: true,
      exit_code: 0,
      action: "register",
      gateway_uri: gw.uri,
      steps: [{ step: "input" }, { step: "token" }, { step: "preflight" }, { step: "register" }, { step: "confirmed" }],
    });
    const bad = await runCli(["--json"], env(gw.uri, { GATEWAY_API_KEY: "not-the-key-123" }));
    expect(bad.code).toBe(ExitCode.PreflightFailed);
    expect(bad.stderr).toEqual([]);
    expect(bad.stdout).toHaveLength(1);
    expect(JSON.parse(bad.stdout[0]!)).toMatchObject({ ok: false, exit_code: 4, error: { step: "preflight" } });
    for (const secret of [CLIENT_SECRET, API_KEY, "not-the-key-123"]) expect(good.all + bad.all).not.toContain(secret);
  });

  it("--json reports bad input as one JSON line with exit 2", async () => {
    const run = await runCli(["--json", "--bogus"], {});
    expect(run.code).toBe(ExitCode.BadInput);
    expect(run.stdout).toHaveLength(1);
    const result = JSON.parse(run.stdout[0]!) as { error: { message: string } };
    expect(result.error.message).toMatch(/unknown flag --bogus.*MOSAIC_CLIENT_ID/);
  });

  // Issue 8, item 7: the value was printed as `unexpected argument "VALUE"` on stderr and in --json.
  it.each([[[] as string[]], [["--json"]]])("never prints a secret passed as a flag value (extra flags %j)", async (extra) => {
    const gw = await gateway();
    const run = await runCli([...extra, "--client-secret", "flag-secret-value-77", "--token=flag-token-value-88"], env(gw.uri));
    expect(run.code).toBe(ExitCode.BadInput);
    expect(run.all).toContain("unknown flag --client-secret: secrets are read from the environment only");
    expect(run.all).not.toContain("flag-secret-value-77");
    expect(run.all).not.toContain("flag-token-value-88");
  });

  it("redacts a secret even when Mosaic echoes it back in an error", async () => {
    const gw = await gateway();
    const run = await runCli([], env(gw.uri), {
      fetch: async (input, init) =>
        String(input).endsWith("/oidc/token")
          ? new Response(JSON.stringify({ message: `bad client_secret ${CLIENT_SECRET}`, error_code: 400 }), { status: 400 })
          : fetch(input, init),
    });
    expect(run.code).toBe(ExitCode.CredentialsRefused);
    expect(run.all).toContain("bad client_secret [redacted]");
    expect(run.all).not.toContain(CLIENT_SECRET);
  });

  // Issue 8, item 9: an echo URL-encoded (the form the CLI posted) or JSON-escaped got past the raw-text redactor.
  it.each([[[] as string[]], [["--json"]]])("redacts a secret Mosaic echoes URL-encoded or JSON-escaped (extra flags %j)", async (extra) => {
    const secret = 'client/secret+"with" spaces&é';
    const gw = await gateway();
    const echo = `${new URLSearchParams({ client_secret: secret })} or ${JSON.stringify(secret)} or ${encodeURIComponent(secret)}`;
    const run = await runCli(extra, env(gw.uri, { MOSAIC_CLIENT_SECRET: secret }), {
      fetch: async (input, init) =>
        String(input).endsWith("/oidc/token")
          ? new Response(JSON.stringify({ message: `bad request: ${echo}`, error_code: 400 }), { status: 400 })
          : fetch(input, init),
    });
    expect(run.code).toBe(ExitCode.CredentialsRefused);
    expect(run.all).toContain("[redacted]");
    for (const form of [secret, encodeURIComponent(secret), new URLSearchParams({ s: secret }).toString().slice(2), JSON.stringify(secret).slice(1, -1)]) {
      expect(run.all).not.toContain(form);
    }
    expect(run.all).not.toContain("spaces");
  });
});

/** Answers every request with `status` and a Location on `target` (same path), recording what it was sent. */
async function startRedirector(target: string, status: 307 | 308) {
  const seen: { method: string; path: string }[] = [];
  const server = http.createServer((req, res) => {
    seen.push({ method: req.method ?? "", path: req.url ?? "" });
    req.resume();
    res.writeHead(status, { Location: `${target}${req.url ?? "/"}` }).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  closers.push(() => new Promise((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

// Issue 8, item 8: fetch followed 307/308, re-sending X-API-Key, the client_secret and the PUT's api_key to the
// redirect's target, and the CLI printed ✔. Here the target is the real emulator or gateway, so following would
// succeed: the CLI must stop, say why, and the target must see nothing.
describe("redirects are never followed with a secret", () => {
  it.each([307, 308] as const)("the token endpoint's %i: exit 2, the client secret never reaches the target", async (status) => {
    const gw = await gateway();
    const redirector = await startRedirector(mosaic.url, status);
    const run = await runCli([], env(gw.uri, { MOSAIC_BASE_URL: redirector.url }));
    expect(run.code).toBe(ExitCode.BadInput);
    expect(run.stderr.join("\n")).toContain(`could not get a token from Mosaic: Mosaic answered ${status}, a redirect to ${mosaic.url}; not followed: the request carries a secret`);
    expect(redirector.seen).toEqual([{ method: "POST", path: "/oidc/token" }]);
    expect(mosaic.requests).toHaveLength(0);
    expect(run.all).not.toContain("✔ token");
  });

  it.each([307, 308] as const)("the gateway's %i on the challenge: exit 4, the API key never reaches the target", async (status) => {
    const gw = await gateway();
    const redirector = await startRedirector(new URL(gw.uri).origin, status);
    const run = await runCli([], env(`${redirector.url}/send-sms`));
    expect(run.code).toBe(ExitCode.PreflightFailed);
    expect(run.stderr.join("\n")).toContain(`the gateway's challenge answered ${status}, a redirect to ${new URL(gw.uri).origin}; not followed`);
    expect(gw.requests).toHaveLength(0);
    expect(mosaic.provider()).toEqual({ provider: "Default" });
  });

  it("the PUT's 308: exit 2, the api_key never reaches the target, the tenant unchanged", async () => {
    const gw = await gateway();
    const redirector = await startRedirector(mosaic.url, 308);
    const run = await runCli(["--json"], env(gw.uri), {
      fetch: (input, init) =>
        String(input).endsWith("/cis/v1/tenantsmsproviders") ? fetch(`${redirector.url}/cis/v1/tenantsmsproviders`, init) : fetch(input, init),
    });
    expect(run.code).toBe(ExitCode.BadInput);
    const result = JSON.parse(run.stdout[0]!) as { ok: boolean; error: { step: string; message: string } };
    expect(result).toMatchObject({ ok: false, error: { step: "register", message: expect.stringContaining("a redirect to") } });
    expect(redirector.seen).toEqual([{ method: "PUT", path: "/cis/v1/tenantsmsproviders" }]);
    expect(mosaic.requests.filter((r) => r.method === "PUT")).toHaveLength(0);
    expect(mosaic.provider()).toEqual({ provider: "Default" });
    expect(run.all).not.toContain(API_KEY);
  });
});

describe("the command infra runs: npm run --silent register -- --json", () => {
  function npmRegister(args: string[], childEnv: Record<string, string>) {
    return npmRun("register", args, { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...childEnv });
  }

  it("registers, then reverts, each printing exactly one JSON line and no secret", async () => {
    const gw = await gateway();
    const register = await npmRegister(["--json"], env(gw.uri));
    expect(register.code).toBe(0);
    expect(register.stdout.trimEnd().split("\n")).toHaveLength(1);
    expect(JSON.parse(register.stdout)).toMatchObject({ ok: true, action: "register" });
    expect(mosaic.provider().provider).toBe("CustomGateway");

    const revert = await npmRegister(["--revert", "--json"], env(gw.uri));
    expect(revert.code).toBe(0);
    expect(JSON.parse(revert.stdout)).toMatchObject({ ok: true, action: "revert" });
    expect(mosaic.provider()).toEqual({ provider: "Default" });
    for (const out of [register.stdout, register.stderr, revert.stdout, revert.stderr]) {
      expect(out).not.toContain(API_KEY);
      expect(out).not.toContain(CLIENT_SECRET);
    }
  });
});
