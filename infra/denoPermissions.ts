// The Deno image's network permission, derived from the configuration: Deno refuses every connection its
// `--allow-net` list does not name, so the list must hold exactly the hosts of the providers in use (and the
// Redis instance, when there is one). infra sets the container's args (Cloud Run `args` replaces the image's CMD
// and keeps its ENTRYPOINT) instead of the Dockerfile listing every provider's host, so a stack that sends only
// through Twilio cannot reach Telnyx or Salesforce at all, and a Memorystore address — known only once it
// exists — can be granted exactly. gateway/Dockerfile.deno's CMD is the Twilio-only default for `docker run`;
// infra/test/denoPermissions.test.ts checks it equals what this module derives for the default configuration.

import type { DeliveryConfig } from "./delivery.js";

/** Where the container listens: Cloud Run's PORT (8080, infra sets containerPort 8080) on every interface. */
export const DENO_LISTEN = "0.0.0.0:8080";

/**
 * The HTTPS hosts each provider's requests go to (Deno 2 takes `*.` for any subdomain, the apex included:
 * docs.deno.com runtime/fundamentals/security, "Network access").
 * - Twilio: api.twilio.com and its edge/regional hosts (api.<edge>.<region>.twilio.com).
 * - SMC: the token endpoint on `{subdomain}.auth.marketingcloudapis.com`; sends go to the token's
 *   `rest_instance_url`, a Marketing Cloud REST host the token names (normally `{subdomain}.rest…`), so any
 *   `*.rest.marketingcloudapis.com` is allowed rather than a send failing on a host the token chose.
 * - Telnyx: api.telnyx.com.
 * A provider base URL override (`*_BASE_URL`, tests and proxies) is never set by infra.
 */
export function providerHosts(delivery: Pick<DeliveryConfig<unknown>, "twilio" | "smc" | "telnyx">): string[] {
  const hosts: string[] = [];
  if (delivery.twilio) hosts.push("*.twilio.com:443");
  if (delivery.smc) hosts.push(`${delivery.smc.subdomain}.auth.marketingcloudapis.com:443`, "*.rest.marketingcloudapis.com:443");
  if (delivery.telnyx) hosts.push("api.telnyx.com:443");
  return hosts;
}

/**
 * The Deno image's command line for these hosts (besides listening): `--allow-env` unrestricted and nothing
 * else, for the reasons gateway/Dockerfile.deno gives.
 */
export function denoCommand(hosts: readonly string[]): string[] {
  return ["deno", "run", "--no-prompt", `--allow-net=${[DENO_LISTEN, ...hosts].join(",")}`, "--allow-env", "gateway.mjs"];
}
