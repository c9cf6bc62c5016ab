import { afterEach, describe, expect, it } from "vitest";
import { startMosaicEmulator, type MosaicEmulator } from "../emulators/mosaic.ts";
import { startStubGateway } from "./support/stub-gateway.ts";

const API_KEY = "emulator-test-key";
let closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.map((c) => c()));
  closers = [];
});

async function setup(gatewayOptions: Partial<Parameters<typeof startStubGateway>[0]> = {}, sendTimeoutMs = 3000) {
  const mosaic = await startMosaicEmulator({ clientId: "id", clientSecret: "secret", sendTimeoutMs, sendRetryDelayMs: 1 });
  const gw = await startStubGateway({ apiKey: API_KEY, ...gatewayOptions });
  closers.push(mosaic.close, gw.close);
  return { mosaic, gw };
}

async function token(mosaic: MosaicEmulator, body: Record<string, string>) {
  const res = await fetch(`${mosaic.url}/oidc/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(body).toString(),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function register(mosaic: MosaicEmulator, uri: string, apiKey = API_KEY) {
  const t = await token(mosaic, { grant_type: "client_credentials", client_id: "id", client_secret: "secret" });
  const res = await fetch(`${mosaic.url}/cis/v1/tenantsmsproviders`, {
    method: "PUT",
    headers: { "content-type": "application/json", authorization: `Bearer ${String(t.body.access_token)}` },
    body: JSON.stringify({ provider: "CustomGateway", custom_gateway: { uri, api_key: apiKey } }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe("Mosaic emulator", () => {
  it.each([
    [{ grant_type: "client_credentials", client_id: "id", client_secret: "secret" }, 200],
    [{ grant_type: "client_credentials", client_id: "id", client_secret: "nope" }, 401],
    [{ grant_type: "client_credentials", client_id: "other", client_secret: "secret" }, 401],
    [{ grant_type: "password", client_id: "id", client_secret: "secret" }, 400],
    [{ grant_type: "client_credentials", client_id: "id" }, 400],
  ])("token %j → %i, errors as {message, error_code}", async (form, status) => {
    const { mosaic } = await setup();
    const t = await token(mosaic, form);
    expect(t.status).toBe(status);
    if (status === 200) expect(t.body).toMatchObject({ token_type: "Bearer", expires_in: 3600 });
    else expect(t.body).toEqual({ message: expect.any(String), error_code: status });
  });

  it("refuses the PUT without a valid Bearer token", async () => {
    const { mosaic, gw } = await setup();
    const res = await fetch(`${mosaic.url}/cis/v1/tenantsmsproviders`, {
      method: "PUT",
      headers: { "content-type": "application/json", authorization: "Bearer forged" },
      body: JSON.stringify({ provider: "CustomGateway", custom_gateway: { uri: gw.uri, api_key: API_KEY } }),
    });
    expect(res.status).toBe(401);
    expect(gw.requests).toHaveLength(0);
  });

  it("runs the challenge with the seed's headers and registers on a matching echo", async () => {
    const { mosaic, gw } = await setup();
    const r = await register(mosaic, gw.uri);
    expect(r.status).toBe(200);
    expect(gw.requests).toHaveLength(1);
    const headers = gw.requests[0]!.headers;
    expect(headers).toMatchObject({
      accept: "application/json, text/plain, */*",
      "content-length": "0",
      "x-api-key": API_KEY,
      "x-scheme": "https",
    });
    expect(headers["x-verification-key"]).toMatch(/^[A-Za-z0-9_-]{16,}$/);
    expect(mosaic.provider()).toEqual({ provider: "CustomGateway", uri: gw.uri, apiKey: API_KEY });
  });

  it.each([
    ["a wrong echo", { echo: "wrong" as const }, API_KEY],
    ["a refused key", {}, "another-key"],
  ])("answers 400 {message, error_code} on %s and keeps the old provider", async (_, options, key) => {
    const { mosaic, gw } = await setup(options);
    const r = await register(mosaic, gw.uri, key);
    expect(r.status).toBe(400);
    expect(r.body).toEqual({ message: expect.stringMatching(/validation failed/), error_code: 400 });
    expect(mosaic.provider()).toEqual({ provider: "Default" });
  });

  it("sends an OTP as Mosaic does: JSON body, X-API-Key, the template with the OTP", async () => {
    const { mosaic, gw } = await setup();
    await register(mosaic, gw.uri);
    const result = await mosaic.sendOtp({ phone_number: "+14155550100", app: "Acme" });
    expect(result).toMatchObject({ delivered: true, attempts: 1, status: 200 });
    const post = gw.requests.find((r) => r.method === "POST")!;
    expect(post.headers).toMatchObject({ "content-type": "application/json", "x-api-key": API_KEY });
    expect(JSON.parse(post.body)).toEqual({ phone_number: "+14155550100", sender_id: "", message: `Your Acme verification code is: ${result.otp}` });
    expect(result.otp).toMatch(/^\d{6}$/);
  });

  it("retries a 5xx up to 2 more times, and never a 4xx", async () => {
    const five = await setup({ postStatuses: [503, 502, 500] });
    await register(five.mosaic, five.gw.uri);
    expect(await five.mosaic.sendOtp({ phone_number: "+14155550100" })).toMatchObject({ delivered: false, attempts: 3, status: 500 });

    const four = await setup({ postStatuses: [422] });
    await register(four.mosaic, four.gw.uri);
    expect(await four.mosaic.sendOtp({ phone_number: "+14155550100" })).toMatchObject({ delivered: false, attempts: 1, status: 422 });
  });

  it("times out a slow gateway and retries, delivering on the second attempt", async () => {
    // The second, prompt answer must beat the timeout even on a loaded machine (100 ms did not at load 11 on
    // 2 cores): a 1 s timeout, and a first answer held well past it.
    const { mosaic, gw } = await setup({ postDelaysMs: [2500, 0] }, 1000);
    await register(mosaic, gw.uri);
    const result = await mosaic.sendOtp({ phone_number: "+14155550100" });
    expect(result).toMatchObject({ delivered: true, attempts: 2, status: 200 });
    expect(gw.requests.filter((r) => r.method === "POST")).toHaveLength(2);
  });

  it("exposes send-otp over HTTP, and 409 when no gateway is registered", async () => {
    const { mosaic, gw } = await setup();
    const send = () =>
      fetch(`${mosaic.url}/emulator/send-otp`, { method: "POST", body: JSON.stringify({ phone_number: "+447700900123", app: "Shop" }) });
    expect((await send()).status).toBe(409);
    await register(mosaic, gw.uri);
    const res = await send();
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ delivered: true, message: expect.stringMatching(/^Your Shop verification code is: \d{6}$/) });
  });

  it("injects N failures on a route, then recovers", async () => {
    const { mosaic } = await setup();
    mosaic.failNext("token", 2, 503);
    const ok = { grant_type: "client_credentials", client_id: "id", client_secret: "secret" };
    expect([(await token(mosaic, ok)).status, (await token(mosaic, ok)).status, (await token(mosaic, ok)).status]).toEqual([503, 503, 200]);
  });
});
