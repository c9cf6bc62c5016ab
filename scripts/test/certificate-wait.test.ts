// `npm run wait-for-certificate` (the command infra runs before registering a multi-region gateway), as a real
// process against a fake Compute API and a fake DNS server on loopback; and its main with a fake clock for a
// certificate that turns ACTIVE while it waits. The decisions themselves are table-tested in
// infra/test/certificateStatus.test.ts.

import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, test } from "vitest";
import { EXIT, runCertificateWait } from "../certificate/run.ts";
import { startFakeDns, type FakeDns } from "./support/fake-dns.ts";
import { npmRun } from "./support/run-cli.ts";

const TOKEN = "ya29.certificate-wait-token-must-not-print";
const DOMAIN = "sms.example.com";
const ADDRESS = "203.0.113.7";

interface FakeCompute {
  url: string;
  requests: { url: string; authorization: string | undefined }[];
  close(): Promise<void>;
}

/** GET …/global/sslCertificates/{name} answering from `answers` in turn (the last one repeats). */
async function startFakeCompute(answers: { status: number; body: unknown }[]): Promise<FakeCompute> {
  const requests: FakeCompute["requests"] = [];
  const server = http.createServer((req, res) => {
    requests.push({ url: req.url ?? "", authorization: req.headers.authorization });
    const answer = answers[Math.min(requests.length - 1, answers.length - 1)]!;
    res.writeHead(answer.status, { "content-type": "application/json" }).end(JSON.stringify(answer.body));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const managed = (status: string) => ({ status: 200, body: { name: "gw-cert-1", managed: { status, domains: [DOMAIN], domainStatus: { [DOMAIN]: status === "ACTIVE" ? "ACTIVE" : "PROVISIONING" } } } });

let closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.map((c) => c()));
  closers = [];
});

async function fakes(answers: { status: number; body: unknown }[], records: Record<string, string[]>): Promise<[FakeCompute, FakeDns]> {
  const [compute, dns] = await Promise.all([startFakeCompute(answers), startFakeDns(records)]);
  closers.push(compute.close, dns.close);
  return [compute, dns];
}

function env(compute: FakeCompute, dns: FakeDns, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    CERTIFICATE_PROJECT: "test-project",
    CERTIFICATE_NAME: "gw-cert-1",
    CERTIFICATE_DOMAIN: DOMAIN,
    CERTIFICATE_ADDRESS: ADDRESS,
    GOOGLE_OAUTH_ACCESS_TOKEN: TOKEN,
    COMPUTE_API_BASE_URL: compute.url,
    DNS_SERVERS: dns.server,
    ...extra,
  };
}

describe("npm run wait-for-certificate", () => {
  test("ACTIVE: exit 0 after one look-up, with the token sent to the API and printed nowhere", async () => {
    const [compute, dns] = await fakes([managed("ACTIVE")], { [DOMAIN]: [ADDRESS] });
    const run = await npmRun("wait-for-certificate", [], env(compute, dns));
    expect(run.code).toBe(EXIT.ready);
    expect(run.stdout).toContain(`The certificate for ${DOMAIN} is active`);
    expect(compute.requests).toEqual([{ url: "/compute/v1/projects/test-project/global/sslCertificates/gw-cert-1", authorization: `Bearer ${TOKEN}` }]);
    expect(dns.asked).toContain(DOMAIN);
    expect(run.stdout + run.stderr).not.toContain(TOKEN);
  });

  test.each([
    ["does not resolve", {}],
    ["resolves elsewhere", { [DOMAIN]: ["198.51.100.9"] }],
  ])("PROVISIONING and the domain %s: exit 1 within the grace, naming the A record to create", async (_, records) => {
    const [compute, dns] = await fakes([managed("PROVISIONING")], records);
    const run = await npmRun("wait-for-certificate", [], env(compute, dns, { CERTIFICATE_DNS_GRACE_S: "0" }));
    expect(run.code).toBe(EXIT.notReady);
    expect(run.stderr).toContain(`Create the DNS record "${DOMAIN}. A ${ADDRESS}"`);
    expect(run.stderr).toContain("gcloud compute ssl-certificates describe gw-cert-1 --global");
    expect(run.stdout + run.stderr).not.toContain(TOKEN);
  });

  test("a look-up refused with 403: exit 1 naming the permission", async () => {
    const [compute, dns] = await fakes([{ status: 403, body: { error: { code: 403 } } }], { [DOMAIN]: [ADDRESS] });
    const run = await npmRun("wait-for-certificate", [], env(compute, dns));
    expect(run.code).toBe(EXIT.notReady);
    expect(run.stderr).toContain("needs compute.sslCertificates.get");
  });

  test("missing and malformed inputs: exit 2, each named", async () => {
    const run = await npmRun("wait-for-certificate", [], {
      PATH: process.env.PATH,
      CERTIFICATE_ADDRESS: "not-an-ip",
      CERTIFICATE_WAIT_TIMEOUT_S: "0",
      COMPUTE_API_BASE_URL: "http://compute.example.com",
    });
    expect(run.code).toBe(EXIT.badInput);
    for (const problem of [
      "CERTIFICATE_PROJECT is required",
      "CERTIFICATE_NAME is required",
      "CERTIFICATE_DOMAIN is required",
      "CERTIFICATE_ADDRESS must be the balancer's IPv4 address",
      "CERTIFICATE_WAIT_TIMEOUT_S must be a whole number of seconds from 1 to 3600",
      "COMPUTE_API_BASE_URL must be an https URL",
    ]) {
      expect(run.stderr).toContain(problem);
    }
  });
});

test("a certificate that turns ACTIVE while it waits: polls at 5 s then 10 s on the injected clock, then exit 0", async () => {
  const statuses = ["PROVISIONING", "PROVISIONING", "ACTIVE"];
  let now = 0;
  const sleeps: number[] = [];
  const stdout: string[] = [];
  const code = await runCertificateWait(
    { CERTIFICATE_PROJECT: "p", CERTIFICATE_NAME: "c", CERTIFICATE_DOMAIN: DOMAIN, CERTIFICATE_ADDRESS: ADDRESS, GOOGLE_OAUTH_ACCESS_TOKEN: TOKEN },
    {
      fetch: async () => new Response(JSON.stringify({ managed: { status: statuses.shift() } }), { status: 200 }),
      resolve4: async () => [ADDRESS],
      applicationDefaultToken: async () => {
        throw new Error("not used when a token is given");
      },
      sleep: async (ms) => {
        sleeps.push(ms);
        now += ms;
      },
      now: () => now,
      stdout: (l) => stdout.push(l),
      stderr: () => {},
    },
  );
  expect(code).toBe(EXIT.ready);
  expect(sleeps).toEqual([5_000, 10_000]);
  expect(stdout[0]).toBe(`Waiting for ${DOMAIN}: certificate PROVISIONING; the domain resolves to ${ADDRESS}`);
});

test("no token and no Application Default Credentials: exit 1 saying how to log in", async () => {
  const stderr: string[] = [];
  const code = await runCertificateWait(
    { CERTIFICATE_PROJECT: "p", CERTIFICATE_NAME: "c", CERTIFICATE_DOMAIN: DOMAIN, CERTIFICATE_ADDRESS: ADDRESS },
    {
      fetch: async () => {
        throw new Error("no look-up without a token");
      },
      resolve4: async () => [],
      applicationDefaultToken: async () => {
        throw new Error("Could not load the default credentials.");
      },
      sleep: async () => {},
      now: () => 0,
      stdout: () => {},
      stderr: (l) => stderr.push(l),
    },
  );
  expect(code).toBe(EXIT.notReady);
  expect(stderr.join("\n")).toContain("gcloud auth application-default login");
});
