import { describe, expect, it } from "vitest";
import type { SmcTokenVerdict } from "../src/providers/smc/classify.ts";
import { createTokenCache } from "../src/providers/smc/token.ts";

/** The SMC token cache on an injected clock and a scripted token endpoint. (Over HTTP, with 50 sends: smc.test.ts.) */

function harness(lifetimeMs = 1_079_000) {
  let clock = 5_000_000;
  let issued = 0;
  const pending: ((v: SmcTokenVerdict) => void)[] = [];
  const cache = createTokenCache({
    now: () => clock,
    fetchToken: () => new Promise((resolve) => pending.push(resolve)),
  });
  const grant = () => pending.shift()!({ kind: "token", token: { accessToken: `token-${++issued}`, expiresInMs: lifetimeMs } });
  const fail = () => pending.shift()!({ kind: "provider_rejected", code: "token_401", reason: "bad client" });
  const live = new AbortController().signal;
  return {
    cache,
    grant,
    fail,
    pending,
    get: () => cache.get(live, clock + 2000),
    advance: (ms: number) => void (clock += ms),
    now: () => clock,
  };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe("SMC token cache", () => {
  it("50 concurrent sends share one token request", async () => {
    const h = harness();
    const all = Promise.all(Array.from({ length: 50 }, () => h.get()));
    await flush();
    expect(h.cache.requests).toBe(1);
    h.grant();
    const tokens = await all;
    expect(new Set(tokens.map((t) => ("token" in t ? t.token.accessToken : "none")))).toEqual(new Set(["token-1"]));
    expect(h.cache.requests).toBe(1);
  });

  it("keeps the token until 60 s before it expires, counted from the request", async () => {
    const h = harness(1_079_000);
    const first = h.get();
    h.advance(300); // the token endpoint takes 300 ms
    h.grant();
    await first;
    h.advance(1_079_000 - 60_000 - 300 - 1);
    await h.get();
    expect(h.cache.requests).toBe(1);
    h.advance(1);
    const second = h.get();
    await flush();
    expect(h.cache.requests).toBe(2);
    h.grant();
    expect(await second).toEqual({ token: { accessToken: "token-2", expiresInMs: 1_079_000 } });
  });

  it("a 401 drops the token it used, once: stale holders do not drop its replacement", async () => {
    const h = harness();
    const first = h.get();
    h.grant();
    const stale = (await first) as { token: { accessToken: string; expiresInMs: number } };
    h.cache.invalidate(stale.token);
    const renewed = h.get();
    await flush();
    h.grant();
    expect(await renewed).toMatchObject({ token: { accessToken: "token-2" } });
    h.cache.invalidate(stale.token); // a second send that also held token-1 gets its 401 late
    await h.get();
    expect(h.cache.requests).toBe(2);
  });

  it("a failed request fails every waiting send and is not cached", async () => {
    const h = harness();
    const waiting = Promise.all([h.get(), h.get(), h.get()]);
    await flush();
    h.fail();
    expect((await waiting).map((v) => ("kind" in v ? v.code : "token"))).toEqual(["token_401", "token_401", "token_401"]);
    const next = h.get();
    await flush();
    expect(h.cache.requests).toBe(2);
    h.grant();
    expect(await next).toMatchObject({ token: { accessToken: "token-1" } });
  });

  it("a send stops waiting at its startBy; the request goes on and serves the next send", async () => {
    const h = harness();
    const late = await h.cache.get(new AbortController().signal, h.now());
    expect(late).toEqual({ kind: "provider_rejected", code: "not_started", reason: "SMC token not obtained in time (the SMS was not sent)" });
    expect(h.pending).toHaveLength(1);
    h.grant();
    await flush();
    expect(await h.get()).toMatchObject({ token: { accessToken: "token-1" } });
    expect(h.cache.requests).toBe(1);
  });

  it("an aborted send does not wait", async () => {
    const h = harness();
    const controller = new AbortController();
    controller.abort();
    expect(await h.cache.get(controller.signal, h.now() + 2000)).toMatchObject({ kind: "provider_rejected", code: "not_started" });
  });
});
