// Registers the deployed gateway with Mosaic as the tenant's SMS provider, inside `pulumi up`, by running the
// repository's registration CLI (`npm run register`, scripts/). A new URL or a new key is one more PUT of the
// new values (the command's `update`); only `pulumi destroy` reverts the tenant to Mosaic's Default provider.
// Secrets reach the CLI only through its environment, never its command line.

import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";

export const REGISTER_COMMAND = "npm run --silent register -- --json";
export const REVERT_COMMAND = "npm run --silent register -- --revert --json";

export interface MosaicRegistrationArgs {
  /** Mosaic API base URL (the region already resolved). */
  mosaicBaseUrl: pulumi.Input<string>;
  mosaicClientId: pulumi.Input<string>;
  mosaicClientSecret: pulumi.Input<string>;
  /** The exact gateway URI to register, path included. */
  gatewayUri: pulumi.Input<string>;
  /** The key Mosaic is to send: the current generation's. */
  apiKey: pulumi.Input<string>;
  /** Where `npm run register` runs, relative to the program's working directory (infra/ under the CLI), as the
   * command provider starts there too: the state then holds no machine-specific path. */
  dir: string;
  /** The gateway's service (and invoker binding): the CLI's preflight calls the live gateway, a new key must be
   * served before Mosaic is given it, and on destroy the revert must run before the service goes. Set on the
   * command itself, since a component's own `dependsOn` does not order its children. */
  gatewayReady: pulumi.Resource[];
}

/** The CLI's environment (its documented inputs). Pure, so tests can check what goes where. */
export function registrationEnvironment(args: Omit<MosaicRegistrationArgs, "dir" | "gatewayReady">) {
  return {
    MOSAIC_BASE_URL: args.mosaicBaseUrl,
    MOSAIC_CLIENT_ID: args.mosaicClientId,
    MOSAIC_CLIENT_SECRET: pulumi.secret(args.mosaicClientSecret),
    GATEWAY_URI: args.gatewayUri,
    GATEWAY_API_KEY: pulumi.secret(args.apiKey),
  };
}

export class MosaicRegistration extends pulumi.ComponentResource {
  readonly command: command.local.Command;
  /** The CLI's `--json` result (secret: it is kept out of logs and encrypted in state). */
  readonly result: pulumi.Output<string>;

  constructor(name: string, args: MosaicRegistrationArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mosaic-sms-gateway:index:MosaicRegistration", name, {}, opts);
    this.command = new command.local.Command(
      `${name}-register`,
      {
        create: REGISTER_COMMAND,
        // A change of any input — a new URL, a new key, other credentials — runs this instead of replacing the
        // command: the PUT swaps the tenant straight from the old values to the new ones. `triggers` would not do:
        // the SDK marks them replaceOnChanges (@pulumi/command local/command.ts), i.e. revert, then register.
        update: REGISTER_COMMAND,
        delete: REVERT_COMMAND,
        dir: args.dir,
        environment: registrationEnvironment(args),
        // The CLI never prints secrets, but its output is not streamed into Pulumi's logs either, so a future
        // change to it cannot leak one there; its output is still kept, as secrets.
        logging: command.types.enums.local.Logging.None,
        addPreviousOutputInEnv: false,
      },
      {
        parent: this,
        dependsOn: args.gatewayReady,
        // Nothing in the inputs replaces the command any more; a forced replacement (`pulumi up --replace`) must
        // still end registered: the default create-before-delete would register, then revert.
        deleteBeforeReplace: true,
        additionalSecretOutputs: ["stdout", "stderr"],
      },
    );
    this.result = this.command.stdout;
    this.registerOutputs({ result: this.result });
  }
}
