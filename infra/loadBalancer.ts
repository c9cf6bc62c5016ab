// One registered URI in front of a Cloud Run service per region: the global external Application Load Balancer
// with serverless NEGs, the shape PROVIDERS.md ("One URI for several regions") describes. Per region a serverless
// NEG; one global backend service (EXTERNAL_MANAGED, Cloud Armor attached, outlier detection so a failing region
// stops receiving traffic); a URL map; a Google-managed certificate for the domain; an HTTPS proxy; a global
// address and forwarding rules on 443 and, for the HTTP→HTTPS redirect, on 80.
//
// Input names are @pulumi/gcp 9.37's (node_modules/@pulumi/gcp/compute/*.d.ts), which bridges
// terraform-provider-google: resource_compute_backend_service.go says a health check "must be specified unless
// the backend service uses an internet or serverless NEG", drops `max_utilization` from NEG backends itself, and
// allows `outlier_detection` for global EXTERNAL_MANAGED services; Google's serverless-NEG module
// (terraform-google-lb-http modules/serverless_negs) sets only `group` on each backend, as done here.
//
// Names: every child is auto-named by Pulumi from `${namePrefix}-<role>` plus a random suffix, so two stacks in
// one project never collide and a replacement (a new domain means a new certificate) is created before the old
// one goes. Compute names are RFC 1035 labels of at most 63 characters, and pulumi-gcp's generic auto-naming,
// which the NEGs, address, forwarding rules and certificate get (provider/resources.go SetAutonaming(255, "-")),
// does not shorten to that (only the backend service, URL maps, proxies and security policy have a 63-character
// lowercaseAutoName there): the prefix is checked before anything is created.

import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { hostnameProblem } from "./regions.js";

export interface RegionalService {
  /** The Cloud Run region, e.g. `europe-west1`. */
  region: string;
  /** The Cloud Run service's name in that region (not its URI). */
  service: pulumi.Input<string>;
}

export interface GatewayLoadBalancerArgs {
  /** Start of every child's name: lowercase letters, digits and hyphens, starting with a letter. The per-stack
   * naming convention is the caller's; `balancerNames` says how long it may be. */
  namePrefix: string;
  /** One service per region, each region once. */
  services: readonly RegionalService[];
  /** The hostname the certificate covers and Mosaic calls, e.g. `sms.example.com`. */
  domain: string;
  /** The path registered with Mosaic, e.g. `/send-sms`. */
  gatewayPath: string;
  /** The Cloud Armor policy (its id) attached to the backend service. */
  securityPolicy: pulumi.Input<string>;
  /** Share of requests the load balancer logs, 0–1. Default 1: Cloud Armor's decisions (and its preview mode)
   * are only visible in these logs. Lower it at high rates, where logging every request costs real money. */
  logSampleRate?: number;
}

/** Ejects a region from the pool after five consecutive 502/503/504s or connection failures (what an unreachable
 * or overloaded Cloud Run region answers), for 30 s × the number of times it was ejected, checked every 10 s.
 * The gateway's own 5xx on a provider failure look the same, and a provider outage hits every region alike:
 * `maxEjectionPercent: 50` caps ejection at half the regions (with two: one), so errors seen everywhere cannot
 * empty the pool. Plain 5xx (`consecutiveErrors`) and success-rate ejection are off, set
 * explicitly because their documented defaults differ between the Compute API reference (enforcing 0) and the
 * provider's schema text (enforcing 100); success-rate analysis also needs 5 hosts by default, more than the
 * regions we run. Source: compute v1 BackendService.outlierDetection; @pulumi/gcp BackendServiceOutlierDetection. */
export const OUTLIER_DETECTION = {
  consecutiveGatewayFailure: 5,
  enforcingConsecutiveGatewayFailure: 100,
  consecutiveErrors: 5,
  enforcingConsecutiveErrors: 0,
  enforcingSuccessRate: 0,
  interval: { seconds: 10 },
  baseEjectionTime: { seconds: 30 },
  maxEjectionPercent: 50,
} as const;

/** Auto-names add `-` and 7 random characters; Compute names are at most 63 characters. */
const MAX_LOGICAL_NAME = 63 - 8;
const RFC1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

/** The children's logical names, and what is wrong with the inputs (empty when nothing is). */
export function balancerNames(namePrefix: string, regions: readonly string[]) {
  const names = {
    neg: (region: string) => `${namePrefix}-neg-${region}`,
    backend: `${namePrefix}-backend`,
    urlMap: `${namePrefix}-urlmap`,
    certificate: `${namePrefix}-cert`,
    httpsProxy: `${namePrefix}-https`,
    address: `${namePrefix}-ip`,
    httpsRule: `${namePrefix}-https-rule`,
    redirectMap: `${namePrefix}-redirect`,
    httpProxy: `${namePrefix}-http`,
    httpRule: `${namePrefix}-http-rule`,
  };
  const problems: string[] = [];
  if (!RFC1035.test(namePrefix)) {
    problems.push(`namePrefix ${JSON.stringify(namePrefix)} must start with a lowercase letter and hold only lowercase letters, digits and inner hyphens`);
  }
  const all = [...regions.map(names.neg), ...Object.values(names).filter((n): n is string => typeof n === "string")];
  const longest = all.reduce((a, b) => (b.length > a.length ? b : a), "");
  if (longest.length > MAX_LOGICAL_NAME) {
    problems.push(
      `namePrefix ${JSON.stringify(namePrefix)} is ${longest.length - MAX_LOGICAL_NAME} characters too long: ` +
        `"${longest}" plus Pulumi's 8-character suffix exceeds the 63 characters a Compute name may have`,
    );
  }
  return { names, problems };
}

/** Everything the component checks before it creates anything; an empty list means the inputs are usable. */
export function loadBalancerProblems(args: Pick<GatewayLoadBalancerArgs, "namePrefix" | "services" | "domain" | "gatewayPath" | "logSampleRate">): string[] {
  const regions = args.services.map((s) => s.region);
  const problems = [...balancerNames(args.namePrefix, regions).problems];
  if (regions.length === 0) problems.push("services must name at least one regional Cloud Run service");
  const repeated = [...new Set(regions.filter((r, i) => regions.indexOf(r) !== i))];
  if (repeated.length > 0) problems.push(`services lists region ${repeated.join(", ")} more than once: one serverless NEG per region`);
  const domainProblem = hostnameProblem(args.domain);
  if (domainProblem) problems.push(`domain ${domainProblem} (got ${JSON.stringify(args.domain)})`);
  if (!/^\/[A-Za-z0-9._~\-/]*$/.test(args.gatewayPath)) problems.push(`gatewayPath must be a URL path starting with "/" (got ${JSON.stringify(args.gatewayPath)})`);
  const rate = args.logSampleRate;
  if (rate !== undefined && !(rate >= 0 && rate <= 1)) problems.push(`logSampleRate must be from 0 to 1 (got ${rate})`);
  return problems;
}

export class GatewayLoadBalancer extends pulumi.ComponentResource {
  /** The global IPv4 address: the A record for `domain` must point here before the certificate can provision. */
  readonly address: pulumi.Output<string>;
  /** The URI to register with Mosaic: `https://{domain}{gatewayPath}`. */
  readonly uri: pulumi.Output<string>;
  /** The managed certificate's name. Its provisioning status is not an output of the provider's resource (the
   * Compute API's `managed.status` and `managed.domainStatus` are not in its schema): read it with
   * `gcloud compute ssl-certificates describe <name> --global --format="yaml(managed)"` or certificateStatus.ts. */
  readonly certificateName: pulumi.Output<string>;
  readonly certificate: gcp.compute.ManagedSslCertificate;
  readonly backendService: gcp.compute.BackendService;
  readonly negs: gcp.compute.RegionNetworkEndpointGroup[];
  /** What must exist before the domain answers: the HTTPS forwarding rule (whose chain holds the rest). */
  readonly ready: pulumi.Resource[];

  constructor(name: string, args: GatewayLoadBalancerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mosaic-sms-gateway:index:GatewayLoadBalancer", name, {}, opts);
    const problems = loadBalancerProblems(args);
    if (problems.length > 0) throw new Error(`GatewayLoadBalancer ${name}: invalid inputs:\n  - ${problems.join("\n  - ")}`);
    const { names } = balancerNames(args.namePrefix, args.services.map((s) => s.region));
    const parent = this;

    this.negs = args.services.map(
      ({ region, service }) =>
        new gcp.compute.RegionNetworkEndpointGroup(
          names.neg(region),
          { region, networkEndpointType: "SERVERLESS", cloudRun: { service } },
          { parent },
        ),
    );

    this.backendService = new gcp.compute.BackendService(
      names.backend,
      {
        loadBalancingScheme: "EXTERNAL_MANAGED",
        // The fully qualified URL, as the provider asks for NEG backends.
        backends: this.negs.map((neg) => ({ group: neg.selfLink })),
        securityPolicy: args.securityPolicy,
        outlierDetection: OUTLIER_DETECTION,
        logConfig: { enable: true, sampleRate: args.logSampleRate ?? 1 },
      },
      { parent },
    );

    const urlMap = new gcp.compute.URLMap(names.urlMap, { defaultService: this.backendService.id }, { parent });
    this.certificate = new gcp.compute.ManagedSslCertificate(
      names.certificate,
      { type: "MANAGED", managed: { domains: [args.domain] } },
      { parent },
    );
    const httpsProxy = new gcp.compute.TargetHttpsProxy(
      names.httpsProxy,
      { urlMap: urlMap.id, sslCertificates: [this.certificate.id] },
      { parent },
    );
    const address = new gcp.compute.GlobalAddress(names.address, { addressType: "EXTERNAL", ipVersion: "IPV4" }, { parent });
    // Forwarding rules default to the classic EXTERNAL scheme; the backend service is EXTERNAL_MANAGED and the
    // two must agree.
    const httpsRule = new gcp.compute.GlobalForwardingRule(
      names.httpsRule,
      { target: httpsProxy.id, ipAddress: address.address, portRange: "443", ipProtocol: "TCP", loadBalancingScheme: "EXTERNAL_MANAGED" },
      { parent },
    );

    // Plain HTTP only redirects. 308 keeps the method and body, so a POST sent to http:// by mistake is repeated
    // as the same POST over HTTPS, never turned into a GET (URLMapDefaultUrlRedirect.redirectResponseCode).
    const redirectMap = new gcp.compute.URLMap(
      names.redirectMap,
      { defaultUrlRedirect: { httpsRedirect: true, redirectResponseCode: "PERMANENT_REDIRECT", stripQuery: false } },
      { parent },
    );
    const httpProxy = new gcp.compute.TargetHttpProxy(names.httpProxy, { urlMap: redirectMap.id }, { parent });
    new gcp.compute.GlobalForwardingRule(
      names.httpRule,
      { target: httpProxy.id, ipAddress: address.address, portRange: "80", ipProtocol: "TCP", loadBalancingScheme: "EXTERNAL_MANAGED" },
      { parent },
    );

    this.address = address.address;
    this.uri = pulumi.output(`https://${args.domain}${args.gatewayPath}`);
    this.certificateName = this.certificate.name;
    this.ready = [httpsRule];
    this.registerOutputs({ address: this.address, uri: this.uri, certificateName: this.certificateName });
  }
}
