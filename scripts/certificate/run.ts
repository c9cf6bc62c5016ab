/**
 * `npm run wait-for-certificate`: waits, bounded, for the load balancer's Google-managed certificate before anything
 * calls https://{domain} (infra/index.ts runs it inside `pulumi up`, before the Mosaic registration, in
 * multi-region mode). The decisions are infra/certificateStatus.ts's; this module reads the environment, wires
 * the lookups, prints progress and maps the outcome to an exit code. No access token is ever printed.
 *
 * Environment:
 *   CERTIFICATE_PROJECT, CERTIFICATE_NAME   the project and the managed certificate (stack output certificateName)
 *   CERTIFICATE_DOMAIN, CERTIFICATE_ADDRESS the domain and the balancer's address (stack output address)
 *   CERTIFICATE_WAIT_TIMEOUT_S              give up after this long; default 1800 (1 to 3600)
 *   CERTIFICATE_DNS_GRACE_S                 give up this soon when the domain does not point to the address; default 120
 *   DNS_SERVERS                             comma-separated resolvers (ip or ip:port) instead of the system's, e.g.
 *                                           8.8.8.8 to see the public answer past a local cache
 *   GOOGLE_OAUTH_ACCESS_TOKEN               a token for the Compute API; default Application Default Credentials
 *   COMPUTE_API_BASE_URL                    tests and proxies only; default https://compute.googleapis.com
 */
import {
  CertificateNotReady,
  COMPUTE_API,
  computeCertificateLookup,
  DEFAULT_WAIT_BOUNDS,
  waitForCertificate,
  type CertificateTarget,
  type WaitBounds,
} from "../../infra/certificateStatus.ts";
import { secretSafeUrlProblem } from "../../gateway/src/config.ts";

export const EXIT = { ready: 0, notReady: 1, badInput: 2 } as const;

export interface CertificateWaitDependencies {
  fetch: typeof fetch;
  /** The domain's A records, asking `servers` when given; rejects with ENOTFOUND/ENODATA when there are none. */
  resolve4(domain: string, servers: string[] | undefined): Promise<string[]>;
  /** An OAuth access token for the Compute API (Application Default Credentials). */
  applicationDefaultToken(): Promise<string>;
  sleep(ms: number): Promise<void>;
  now(): number;
  stdout(line: string): void;
  stderr(line: string): void;
}

interface Settings {
  project: string;
  target: CertificateTarget;
  bounds: WaitBounds;
  dnsServers: string[] | undefined;
  token: string | undefined;
  apiBase: string;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;
const SERVER = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}(:\d{1,5})?$/;

function parseSettings(env: Record<string, string | undefined>, problems: string[]): Settings {
  const value = (name: string) => {
    const v = env[name]?.trim();
    return v === undefined || v === "" ? undefined : v;
  };
  const required = (name: string) => {
    const v = value(name);
    if (v === undefined) problems.push(`${name} is required`);
    return v ?? "";
  };
  const seconds = (name: string, fallbackMs: number, min: number, max: number) => {
    const v = value(name);
    if (v === undefined) return fallbackMs;
    if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) {
      problems.push(`${name} must be a whole number of seconds from ${min} to ${max}`);
      return fallbackMs;
    }
    return Number(v) * 1000;
  };
  const project = required("CERTIFICATE_PROJECT");
  const certificateName = required("CERTIFICATE_NAME");
  const domain = required("CERTIFICATE_DOMAIN").toLowerCase();
  const address = required("CERTIFICATE_ADDRESS");
  if (address !== "" && !IPV4.test(address)) problems.push("CERTIFICATE_ADDRESS must be the balancer's IPv4 address");
  const timeoutMs = seconds("CERTIFICATE_WAIT_TIMEOUT_S", DEFAULT_WAIT_BOUNDS.timeoutMs, 1, 3600);
  const dnsGraceMs = seconds("CERTIFICATE_DNS_GRACE_S", DEFAULT_WAIT_BOUNDS.dnsGraceMs, 0, 3600);
  const servers = value("DNS_SERVERS")?.split(",").map((s) => s.trim()).filter((s) => s !== "");
  if (servers && !servers.every((s) => SERVER.test(s))) problems.push("DNS_SERVERS must be IPv4 addresses, optionally with :port, comma-separated");
  const apiBase = value("COMPUTE_API_BASE_URL") ?? COMPUTE_API;
  const urlProblem = secretSafeUrlProblem(apiBase);
  if (urlProblem !== undefined) problems.push(`COMPUTE_API_BASE_URL ${urlProblem}`);
  return {
    project,
    target: { domain, address, certificateName },
    bounds: { timeoutMs, dnsGraceMs },
    dnsServers: servers,
    token: value("GOOGLE_OAUTH_ACCESS_TOKEN"),
    apiBase: apiBase.replace(/\/+$/, ""),
  };
}

export async function runCertificateWait(env: Record<string, string | undefined>, deps: CertificateWaitDependencies): Promise<number> {
  const problems: string[] = [];
  const settings = parseSettings(env, problems);
  if (problems.length > 0) {
    deps.stderr(`wait-for-certificate: ${problems.join("; ")}`);
    return EXIT.badInput;
  }
  const { target } = settings;
  let token: string;
  try {
    token = settings.token ?? (await deps.applicationDefaultToken());
  } catch (err) {
    deps.stderr(
      `wait-for-certificate: no credentials for the Compute API (${(err as Error).message.split("\n")[0]}): ` +
        "run `gcloud auth application-default login`, or set GOOGLE_OAUTH_ACCESS_TOKEN",
    );
    return EXIT.notReady;
  }
  try {
    await waitForCertificate(
      {
        lookupCertificate: computeCertificateLookup(deps.fetch, settings.project, target.certificateName, token, settings.apiBase),
        resolveDomain: () => deps.resolve4(target.domain, settings.dnsServers),
        sleep: deps.sleep,
        now: deps.now,
        log: deps.stdout,
      },
      target,
      settings.bounds,
    );
  } catch (err) {
    if (err instanceof CertificateNotReady) {
      deps.stderr(err.message);
      return EXIT.notReady;
    }
    throw err;
  }
  deps.stdout(`The certificate for ${target.domain} is active: https://${target.domain} answers with it.`);
  return EXIT.ready;
}
