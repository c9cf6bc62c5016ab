/**
 * `npm run wait-for-certificate`: waits for the balancer's managed certificate (multi-region deploys). See
 * ./certificate/run.ts for the environment it reads; this module only wires the real process edges.
 */
import { Resolver } from "node:dns/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { runCertificateWait } from "./certificate/run.ts";

process.exitCode = await runCertificateWait(process.env, {
  fetch: globalThis.fetch,
  resolve4: (domain, servers) => {
    const resolver = new Resolver({ timeout: 5000, tries: 2 });
    if (servers) resolver.setServers(servers);
    return resolver.resolve4(domain);
  },
  async applicationDefaultToken() {
    // Loaded only here: the same credentials `pulumi up` and `gcloud` use (compute.sslCertificates.get needed).
    const { GoogleAuth } = await import("google-auth-library");
    const token = await new GoogleAuth({ scopes: ["https://www.googleapis.com/auth/cloud-platform"] }).getAccessToken();
    if (!token) throw new Error("Application Default Credentials gave no access token");
    return token;
  },
  sleep: (ms) => sleep(ms),
  now: () => Date.now(),
  stdout: (line) => process.stdout.write(`${line}\n`),
  stderr: (line) => process.stderr.write(`${line}\n`),
});
