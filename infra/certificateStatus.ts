// Waiting for the balancer's Google-managed certificate, bounded, before anything calls https://{domain}.
//
// Until the certificate is ACTIVE the TLS handshake on the domain fails, so the registration CLI's preflight and
// Mosaic's validation challenge fail with a TLS error that says nothing about the cause. Google provisions the
// certificate only once the domain resolves to the balancer's address, and "provisioning a Google-managed
// certificate can take up to 60 minutes after your DNS and load balancer configuration changes propagate"
// (cloud.google.com/certificate-manager/docs/troubleshooting; the same for Compute managed certificates,
// cloud.google.com/load-balancing/docs/ssl-certificates/google-managed-certs). The address only exists once
// `pulumi up` created it, so a first deploy can rarely finish in one run: this module decides, from what it
// observes, whether to wait, go on, or stop with the exact DNS record to create, and re-running `pulumi up`
// resumes from there.
//
// Statuses are the Compute API's `SslCertificate.managed.status` enum (compute v1 SslCertificateManagedSslCertificate
// .Status): PROVISIONING, ACTIVE, PROVISIONING_FAILED (retried), PROVISIONING_FAILED_PERMANENTLY ("won't be retried;
// delete and create a new managed SslCertificate"), RENEWAL_FAILED ("the existing cert is still serving").
// `managed.domainStatus` maps each domain to its own status and is reported as is.

export interface CertificateObservation {
  status: string;
  domainStatus: Record<string, string>;
}

export interface CertificateTarget {
  domain: string;
  /** The balancer's global address, the A record's value. */
  address: string;
  certificateName: string;
}

export interface WaitBounds {
  /** Give up after this long. Default 30 minutes. */
  timeoutMs: number;
  /** Give up this long after the start if the domain still does not resolve to the address: nothing changes
   * until someone creates the record. Default 2 minutes. */
  dnsGraceMs: number;
}

export const DEFAULT_WAIT_BOUNDS: WaitBounds = { timeoutMs: 30 * 60_000, dnsGraceMs: 2 * 60_000 };

export interface Observed {
  /** undefined when the lookup failed transiently (network, 5xx). */
  certificate: CertificateObservation | undefined;
  /** The domain's A records; [] when it does not resolve, undefined when resolving failed for another reason. */
  resolved: readonly string[] | undefined;
  elapsedMs: number;
  attempt: number;
}

export type CertificateStep =
  | { kind: "ready"; warning?: string }
  | { kind: "wait"; delayMs: number; progress: string }
  | { kind: "give-up"; message: string };

/** Reads the answer of `GET compute/v1/projects/{project}/global/sslCertificates/{name}`. */
export function readCertificate(body: unknown): CertificateObservation {
  const managed = (body as { managed?: { status?: unknown; domainStatus?: unknown } } | null)?.managed;
  const domainStatus: Record<string, string> = {};
  if (managed?.domainStatus && typeof managed.domainStatus === "object") {
    for (const [domain, status] of Object.entries(managed.domainStatus)) if (typeof status === "string") domainStatus[domain] = status;
  }
  return { status: typeof managed?.status === "string" ? managed.status : "UNKNOWN", domainStatus };
}

/** Polling interval: 5 s, 10 s, 20 s, then every 30 s. */
export function pollDelayMs(attempt: number): number {
  return Math.min(5_000 * 2 ** Math.max(0, attempt), 30_000);
}

export function dnsInstructions({ domain, address, certificateName }: CertificateTarget): string {
  return (
    `Create the DNS record "${domain}. A ${address}" at your DNS provider (and remove any AAAA record for ` +
    `${domain} that points elsewhere). Google provisions the certificate once the name resolves to the load ` +
    `balancer, which can take up to 60 minutes after DNS propagates. Check it with ` +
    `\`gcloud compute ssl-certificates describe ${certificateName} --global --format="yaml(managed)"\` ` +
    `and run \`pulumi up\` again when it shows ACTIVE: the deploy resumes where it stopped.`
  );
}

function describe(certificate: CertificateObservation | undefined, resolved: readonly string[] | undefined): string {
  const cert = certificate
    ? `certificate ${certificate.status}${Object.keys(certificate.domainStatus).length > 0 ? ` (${Object.entries(certificate.domainStatus).map(([d, s]) => `${d}: ${s}`).join(", ")})` : ""}`
    : "certificate status unknown (lookup failed)";
  const dns = resolved === undefined ? "DNS lookup failed" : resolved.length === 0 ? "the domain does not resolve" : `the domain resolves to ${resolved.join(", ")}`;
  return `${cert}; ${dns}`;
}

/** The one decision of the wait loop, from what was observed this round. */
export function nextCertificateStep(target: CertificateTarget, observed: Observed, bounds: WaitBounds = DEFAULT_WAIT_BOUNDS): CertificateStep {
  const { certificate, resolved, elapsedMs, attempt } = observed;
  const state = describe(certificate, resolved);
  if (certificate?.status === "ACTIVE") return { kind: "ready" };
  if (certificate?.status === "RENEWAL_FAILED") {
    return {
      kind: "ready",
      warning:
        `The certificate for ${target.domain} failed to renew (${state}); the current one still serves until it ` +
        `expires. Fix DNS as below and replace the certificate (\`pulumi up --replace\` on it). ${dnsInstructions(target)}`,
    };
  }
  if (certificate?.status === "PROVISIONING_FAILED_PERMANENTLY") {
    return {
      kind: "give-up",
      message:
        `The certificate for ${target.domain} failed permanently and Google will not retry it (${state}). Fix DNS ` +
        `(and any CAA record that excludes Google's CAs), then replace the certificate with \`pulumi up --replace\` ` +
        `on it. ${dnsInstructions(target)}`,
    };
  }
  const pointsHere = resolved?.includes(target.address) ?? false;
  if (resolved !== undefined && !pointsHere && elapsedMs >= bounds.dnsGraceMs) {
    return {
      kind: "give-up",
      message: `${target.domain} does not point to the load balancer yet (${state}), so its certificate cannot be issued. ${dnsInstructions(target)}`,
    };
  }
  const remaining = bounds.timeoutMs - elapsedMs;
  if (remaining <= 0) {
    return {
      kind: "give-up",
      message: `The certificate for ${target.domain} is not active after ${Math.round(elapsedMs / 60_000)} minutes (${state}). ${dnsInstructions(target)}`,
    };
  }
  return { kind: "wait", delayMs: Math.min(pollDelayMs(attempt), remaining), progress: `Waiting for ${target.domain}: ${state}` };
}

export class CertificateNotReady extends Error {
  override readonly name = "CertificateNotReady";
}

/** Thrown by a lookup; `transient` failures (network, 5xx, 429) are retried, the others end the wait. */
export class CertificateLookupError extends Error {
  override readonly name = "CertificateLookupError";
  constructor(
    message: string,
    readonly transient: boolean,
  ) {
    super(message);
  }
}

export interface WaitDependencies {
  lookupCertificate(): Promise<CertificateObservation>;
  /** The domain's A records; rejects with code ENOTFOUND/ENODATA when there are none. */
  resolveDomain(): Promise<string[]>;
  sleep(ms: number): Promise<void>;
  now(): number;
  log(line: string): void;
}

/** Polls until the certificate is ACTIVE; throws CertificateNotReady with the next step when it gives up. */
export async function waitForCertificate(deps: WaitDependencies, target: CertificateTarget, bounds: WaitBounds = DEFAULT_WAIT_BOUNDS): Promise<void> {
  const start = deps.now();
  for (let attempt = 0; ; attempt++) {
    const [certificate, resolved] = await Promise.all([
      deps.lookupCertificate().catch((err: unknown) => {
        if (err instanceof CertificateLookupError && !err.transient) throw new CertificateNotReady(err.message, { cause: err });
        return undefined;
      }),
      deps.resolveDomain().catch((err: { code?: unknown }) => (err?.code === "ENOTFOUND" || err?.code === "ENODATA" ? [] : undefined)),
    ]);
    const step = nextCertificateStep(target, { certificate, resolved, elapsedMs: deps.now() - start, attempt }, bounds);
    if (step.kind === "ready") {
      if (step.warning) deps.log(step.warning);
      return;
    }
    if (step.kind === "give-up") throw new CertificateNotReady(step.message);
    deps.log(step.progress);
    await deps.sleep(step.delayMs);
  }
}

/** Where the Compute REST API lives; the certificate wait takes another base only for tests and proxies. */
export const COMPUTE_API = "https://compute.googleapis.com";

/** `lookupCertificate` over the Compute REST API with an OAuth access token (never logged or put in a message).
 * Needs `compute.sslCertificates.get` on the project. */
export function computeCertificateLookup(fetchFn: typeof fetch, project: string, name: string, accessToken: string, apiBase = COMPUTE_API) {
  const url = `${apiBase}/compute/v1/projects/${encodeURIComponent(project)}/global/sslCertificates/${encodeURIComponent(name)}`;
  return async function lookupCertificate(): Promise<CertificateObservation> {
    let response: Response;
    try {
      response = await fetchFn(url, { headers: { authorization: `Bearer ${accessToken}` }, signal: AbortSignal.timeout(10_000) });
    } catch (err) {
      throw new CertificateLookupError(`Could not reach the Compute API for certificate ${name}: ${(err as Error).message}`, true);
    }
    if (response.ok) return readCertificate(await response.json());
    const transient = response.status === 429 || response.status >= 500;
    const hint =
      response.status === 404
        ? "it does not exist in this project"
        : response.status === 401 || response.status === 403
          ? "the deploying identity needs compute.sslCertificates.get"
          : `HTTP ${response.status}`;
    throw new CertificateLookupError(`Could not read certificate ${name} in project ${project}: ${hint}`, transient);
  };
}
