// Cloud Armor in front of the gateway's backend service: only the methods and paths the gateway serves, a cap on
// the declared request size, a per-client-IP throttle, and a deny for everything else. Per-phone limits stay in
// the gateway: every OTP comes from Mosaic's few servers, so Armor guards volume and unauthenticated floods
// (../shared/PROVIDERS.md, "GCP shared state and multi-region").
//
// The rules language (cloud.google.com/armor/docs/rules-language-reference) is a CEL subset: `request.method`,
// `request.path` (the path without the query), `request.headers` (a map with lowercase keys), `==`, `&&`, `||`,
// `!`, `x.matches(re)` (an RE2 partial match, hence the anchors) and `has(m['k'])` (used the same way in Google's
// configure-security-policies examples). Each rule's expression takes at most five subexpressions. The language
// has no request-size attribute and the reference lists no string-to-integer conversion, so the size cap is a
// regular expression over the `Content-Length` digits: it matches exactly the values up to the cap.
// A body sent without a declared length (chunked, or HTTP/2 without the header) passes Armor and is then refused
// by the gateway's own 16 KiB limit (gateway/src/app.ts BODY_LIMIT): failing closed on a missing header would
// risk refusing Mosaic's real OTPs on a client detail nobody documents.

import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import type { ArmorSettings } from "./regions.js";

/** The delivery-receipt endpoints (issue 13): POSTed by Twilio and Telnyx, protected by their signatures. */
export const RECEIPT_PATHS = ["/receipts/twilio", "/receipts/telnyx"] as const;
/** The health path that also works from outside (Cloud Run reserves some paths ending in `z`, issue 9). */
export const HEALTH_PATH = "/health";

/** Rule priorities: lower runs first, the first match decides. The default rule's priority is fixed by the API. */
export const PRIORITIES = { oversize: 1000, allowed: 2000, everythingElse: 9000, default: 2147483647 } as const;

export interface ArmorRulesInput {
  /** The path Mosaic GETs (challenge) and POSTs (send). */
  gatewayPath: string;
  /** Paths that accept POST only. Default RECEIPT_PATHS. */
  receiptPaths?: readonly string[];
  /** Path that accepts GET only. Default HEALTH_PATH. */
  healthPath?: string;
  armor: ArmorSettings;
}

/** A rule as the `rules` input of `gcp.compute.SecurityPolicy` takes it (@pulumi/gcp 9 `SecurityPolicyRule`:
 * `action`, `priority`, `match.expr.expression` or `match.versionedExpr` + `match.config.srcIpRanges`,
 * `preview`, `rateLimitOptions`). */
export type ArmorRule = gcp.types.input.compute.SecurityPolicyRule & {
  action: string;
  priority: number;
  description: string;
};

const EVERY_SOURCE = { versionedExpr: "SRC_IPS_V1", config: { srcIpRanges: ["*"] } };

/**
 * The policy's rules, in priority order:
 * 1. a POST whose declared Content-Length exceeds the cap → 403;
 * 2. GET/POST on the gateway path, POST on the receipt paths, GET on the health path → throttled per client IP
 *    (over the threshold → 429), otherwise allowed — `conformAction: "allow"` ends the evaluation;
 * 3. anything else → 403;
 * 4. the mandatory default rule (priority 2147483647, match "*") → 403.
 * Preview marks rules 1–3 `preview: true`: Cloud Armor then logs what each would have done and enforces none,
 * and the default rule allows. Rule 3 exists so that preview still logs "would deny" for the rest: whether the
 * API accepts `preview` on the default rule is not documented, so the default rule is never previewed.
 */
export function armorRules({ gatewayPath, receiptPaths = RECEIPT_PATHS, healthPath = HEALTH_PATH, armor }: ArmorRulesInput): ArmorRule[] {
  const post = pathPattern([gatewayPath, ...receiptPaths]);
  const get = pathPattern([gatewayPath, healthPath]);
  const length = "request.headers['content-length']";
  const preview = armor.preview;
  return [
    {
      priority: PRIORITIES.oversize,
      description: `POST bodies over ${armor.maxRequestBytes} bytes`,
      action: "deny(403)",
      preview,
      match: {
        expr: {
          expression: `request.method == 'POST' && has(${length}) && !${length}.matches('${atMostPattern(armor.maxRequestBytes)}')`,
        },
      },
    },
    {
      priority: PRIORITIES.allowed,
      description: "The gateway's methods and paths, throttled per client IP",
      action: "throttle",
      preview,
      match: {
        expr: {
          expression:
            `(request.method == 'POST' && request.path.matches('${post}')) || ` +
            `(request.method == 'GET' && request.path.matches('${get}'))`,
        },
      },
      rateLimitOptions: {
        conformAction: "allow",
        exceedAction: "deny(429)",
        enforceOnKey: "IP",
        rateLimitThreshold: { count: armor.rateLimitCount, intervalSec: armor.rateLimitIntervalSec },
      },
    },
    { priority: PRIORITIES.everythingElse, description: "Any other method or path", action: "deny(403)", preview, match: EVERY_SOURCE },
    {
      priority: PRIORITIES.default,
      description: preview ? "Default rule: allow while the policy is in preview" : "Default rule: deny",
      action: preview ? "allow" : "deny(403)",
      match: EVERY_SOURCE,
    },
  ];
}

/** An anchored RE2 alternation of exact paths. Paths hold only what config.ts lets `gatewayPath` hold (letters,
 * digits, `/`, `_`, `~`, `-`, `.`); the dot becomes `[.]`, which needs no backslash inside a CEL string. */
export function pathPattern(paths: readonly string[]): string {
  const escaped = [...new Set(paths)].map((path) => {
    if (!/^\/[A-Za-z0-9._~\-/]*$/.test(path)) throw new Error(`Cloud Armor path ${JSON.stringify(path)} has characters a rule cannot match literally`);
    return path.replaceAll(".", "[.]");
  });
  return `^(?:${escaped.join("|")})$`;
}

/** An anchored RE2 pattern that matches a string of decimal digits exactly when its value is at most `max`
 * (leading zeros allowed up to `max`'s length): shorter numbers, then for each digit of `max` the numbers that
 * share its prefix and are smaller at that digit, then `max` itself. */
export function atMostPattern(max: number): string {
  if (!Number.isSafeInteger(max) || max < 1) throw new Error(`atMostPattern needs a positive integer, got ${max}`);
  const digits = String(max);
  const alternatives: string[] = digits.length > 1 ? [`[0-9]{1,${digits.length - 1}}`] : [];
  for (let i = 0; i < digits.length; i++) {
    const digit = Number(digits[i]);
    const rest = digits.length - i - 1;
    if (digit > 0) alternatives.push(`${digits.slice(0, i)}[0-${digit - 1}]${rest > 0 ? `[0-9]{${rest}}` : ""}`);
  }
  alternatives.push(digits);
  return `^(?:${alternatives.join("|")})$`;
}

export interface GatewaySecurityPolicyArgs extends ArmorRulesInput {}

/** The gateway's Cloud Armor backend policy, to attach to the load balancer's backend service. */
export class GatewaySecurityPolicy extends pulumi.ComponentResource {
  readonly policy: gcp.compute.SecurityPolicy;

  constructor(name: string, args: GatewaySecurityPolicyArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mosaic-sms-gateway:index:GatewaySecurityPolicy", name, {}, opts);
    // Built before any resource: a bad path or cap throws here and nothing is registered.
    const rules = armorRules(args);
    this.policy = new gcp.compute.SecurityPolicy(
      name,
      {
        // A backend policy: it filters requests before they reach the backend service (type is creation-only).
        type: "CLOUD_ARMOR",
        description: "Mosaic SMS gateway: its paths only, size cap, per-IP throttle",
        rules,
      },
      { parent: this },
    );
    this.registerOutputs({ policy: this.policy.id });
  }
}
