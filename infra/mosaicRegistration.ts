// Registers the deployed gateway with Mosaic as the tenant's SMS provider, inside `pulumi up`, by running the
// repository's registration CLI (`npm run register`, scripts/). Destroying it reverts the tenant to Mosaic's
// Default provider. Secrets reach the CLI only through its environment, never its command line.

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
  apiKey: pulumi.Input<string>;
  /** The API key's Secret Manager version name: a new key re-registers. */
  apiKeyVersion: pulumi.Input<string>;
  /** Where `npm run register` runs: the repository root. */
  repoRoot: string;
  /** The gateway's service (and invoker binding): the CLI's preflight calls the live gateway, and on destroy
   * the revert must run before the service goes. Set on the command itself, since a component's own
   * `dependsOn` does not order its children. */
  gatewayReady: pulumi.Resource[];
}

/** The CLI's environment (its documented inputs). Pure, so tests can check what goes where. */
export function registrationEnvironment(
  args: Omit<MosaicRegistrationArgs, "apiKeyVersion" | "repoRoot" | "gatewayReady">,
) {
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
        delete: REVERT_COMMAND,
        dir: args.repoRoot,
        environment: registrationEnvironment({
          mosaicBaseUrl: args.mosaicBaseUrl,
          mosaicClientId: args.mosaicClientId,
          mosaicClientSecret: args.mosaicClientSecret,
          gatewayUri: args.gatewayUri,
          apiKey: args.apiKey,
        }),
        // A new URL or a new key version must be registered again. Replacing runs `delete` (revert) then
        // `create` (register) thanks to deleteBeforeReplace below.
        triggers: [args.gatewayUri, args.apiKeyVersion],
        // The CLI never prints secrets, but its output is not streamed into Pulumi's logs either, so a future
        // change to it cannot leak one there; its output is still kept, as secrets.
        logging: command.types.enums.local.Logging.None,
        addPreviousOutputInEnv: false,
      },
      {
        parent: this,
        dependsOn: args.gatewayReady,
        // The default create-before-delete would register the new gateway and then revert the tenant to
        // Default when the old command is deleted.
        deleteBeforeReplace: true,
        additionalSecretOutputs: ["stdout", "stderr"],
      },
    );
    this.result = this.command.stdout;
    this.registerOutputs({ result: this.result });
  }
}
