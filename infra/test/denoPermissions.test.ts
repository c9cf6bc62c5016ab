// The Deno image's --allow-net, derived from the providers in use: checked against the Dockerfile's default and
// against Deno itself (Deno.permissions.query answers from the flags alone, without touching the network).

import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { DENO, REPO_ROOT } from "../../scripts/processes.ts";
import type { DeliveryConfig } from "../delivery.js";
import { denoCommand, providerHosts } from "../denoPermissions.js";

type Providers = Pick<DeliveryConfig<unknown>, "twilio" | "smc" | "telnyx">;
const twilio = { accountSid: "AC1", authToken: "t", fromNumber: "+15551234567", messagingServiceSid: undefined, useSenderId: false };
const smc = { subdomain: "mc563885gzs27c5t9", clientId: "c", clientSecret: "s", messageId: "m", packageType: undefined, accountId: undefined, keyword: undefined };
const telnyx = { apiKey: "k", fromNumber: "+15551230000", messagingProfileId: undefined };
const ONLY_TWILIO: Providers = { twilio, smc: undefined, telnyx: undefined };

describe("providerHosts", () => {
  test.each([
    ["twilio", ONLY_TWILIO, ["*.twilio.com:443"]],
    ["smc", { twilio: undefined, smc, telnyx: undefined }, ["mc563885gzs27c5t9.auth.marketingcloudapis.com:443", "*.rest.marketingcloudapis.com:443"]],
    ["telnyx", { twilio: undefined, smc: undefined, telnyx }, ["api.telnyx.com:443"]],
    ["none (log)", { twilio: undefined, smc: undefined, telnyx: undefined }, []],
  ])("%s", (_, providers, hosts) => {
    expect(providerHosts(providers)).toEqual(hosts);
  });
});

test("the Dockerfile's CMD is what infra derives for a Twilio-only stack (docker run and Cloud Run agree)", () => {
  const cmd = readFileSync(path.join(REPO_ROOT, "gateway/Dockerfile.deno"), "utf8").match(/^CMD (\[.*\])$/m);
  expect(JSON.parse(cmd![1]!)).toEqual(denoCommand(providerHosts(ONLY_TWILIO)));
});

describe("what Deno grants with the derived flags", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "deno-permissions-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const script = path.join(dir, "query.mjs");
  writeFileSync(
    script,
    "const out = {}; for (const host of JSON.parse(Deno.args[0])) out[host] = (await Deno.permissions.query({ name: 'net', host })).state; console.log(JSON.stringify(out));",
  );

  /** The image's command with the gateway replaced by the query script: the same flags, parsed by Deno. */
  function granted(command: string[], hosts: string[]): Record<string, string> {
    expect(command.at(-1)).toBe("gateway.mjs");
    const flags = command.slice(1, -1);
    return JSON.parse(execFileSync(DENO, [...flags, script, JSON.stringify(hosts)], { encoding: "utf8" }));
  }

  const PROBES = [
    "api.twilio.com:443",
    "api.sydney.au1.twilio.com:443",
    "mc563885gzs27c5t9.auth.marketingcloudapis.com:443",
    "mc563885gzs27c5t9.rest.marketingcloudapis.com:443",
    "someoneelse.auth.marketingcloudapis.com:443",
    "api.telnyx.com:443",
    "api.telnyx.com:80",
    "10.0.0.3:6378",
    "example.com:443",
  ];

  test.each([
    ["Twilio only", ONLY_TWILIO, [], ["api.twilio.com:443", "api.sydney.au1.twilio.com:443"]],
    [
      "SMC and Telnyx",
      { twilio: undefined, smc, telnyx },
      [],
      ["mc563885gzs27c5t9.auth.marketingcloudapis.com:443", "mc563885gzs27c5t9.rest.marketingcloudapis.com:443", "api.telnyx.com:443"],
    ],
    ["Twilio and a Redis instance", ONLY_TWILIO, ["10.0.0.3:6378"], ["api.twilio.com:443", "api.sydney.au1.twilio.com:443", "10.0.0.3:6378"]],
  ])("%s: exactly its hosts", (_, providers, extra, allowed) => {
    const states = granted(denoCommand([...providerHosts(providers as Providers), ...extra]), PROBES);
    for (const probe of PROBES) expect(states[probe], probe).toBe(allowed.includes(probe) ? "granted" : "prompt");
  });
});
