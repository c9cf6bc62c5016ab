/**
 * `npm run register -- [flags]`: registers the gateway with Mosaic (or reverts). See `--help` and the README.
 * This module only wires the real process edges; the logic lives in ./register/run.ts.
 */
import { runRegister } from "./register/run.ts";
import { createSecretReader } from "./register/secret.ts";
import { runCommand } from "./register/stack.ts";

process.exitCode = await runRegister(process.argv.slice(2), process.env, {
  fetch: globalThis.fetch,
  stdout: (line) => process.stdout.write(`${line}\n`),
  stderr: (line) => process.stderr.write(`${line}\n`),
  readSecret: createSecretReader(),
  runCommand,
});
