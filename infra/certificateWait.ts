// The bounded wait for the balancer's Google-managed certificate, inside `pulumi up` (multi-region only): the
// repository's `npm run wait-for-certificate` (scripts/certificate/run.ts, decisions in certificateStatus.ts),
// run after the balancer exists and before anything calls https://{domain} — the Mosaic registration's preflight
// and Mosaic's own validation challenge would otherwise fail on a TLS handshake that says nothing of the cause.
// It stops within 2 minutes when the domain does not point to the address yet, printing the exact A record to
// create; re-running `pulumi up` resumes. No secret reaches it: it authenticates with Application Default
// Credentials, as `pulumi up` does.

import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";

export const WAIT_COMMAND = "npm run --silent wait-for-certificate";

export interface CertificateWaitArgs {
  project: pulumi.Input<string>;
  certificateName: pulumi.Input<string>;
  domain: pulumi.Input<string>;
  address: pulumi.Input<string>;
  /** The certificate's id: a new certificate is waited for again. */
  certificateId: pulumi.Input<string>;
  /** Where `npm run` runs, relative to the program's working directory (see MosaicRegistration). */
  dir: string;
  /** The balancer's forwarding rule, whose chain holds the certificate. */
  after: pulumi.Resource[];
}

/** The command's environment (scripts/certificate/run.ts's documented inputs). Pure, so tests check it. */
export function certificateWaitEnvironment(args: Pick<CertificateWaitArgs, "project" | "certificateName" | "domain" | "address">) {
  return {
    CERTIFICATE_PROJECT: args.project,
    CERTIFICATE_NAME: args.certificateName,
    CERTIFICATE_DOMAIN: args.domain,
    CERTIFICATE_ADDRESS: args.address,
  };
}

export class CertificateWait extends pulumi.ComponentResource {
  readonly command: command.local.Command;

  constructor(name: string, args: CertificateWaitArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mosaic-sms-gateway:index:CertificateWait", name, {}, opts);
    this.command = new command.local.Command(
      `${name}-wait`,
      {
        create: WAIT_COMMAND,
        // Another address or domain runs the wait again, in place.
        update: WAIT_COMMAND,
        dir: args.dir,
        environment: certificateWaitEnvironment(args),
        // A replaced certificate (a new domain) provisions from scratch: wait for it again.
        triggers: [args.certificateId],
        addPreviousOutputInEnv: false,
      },
      { parent: this, dependsOn: args.after },
    );
    this.registerOutputs({});
  }
}
