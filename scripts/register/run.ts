import { ExitCode, RegisterError, type Step } from "./exit-codes.ts";
import { formatFailure, formatJson, formatProgress, redact, type JsonResult, type StepRecord } from "./format.ts";
import type { Fetch, HttpDeps, RetryPolicy } from "./http.ts";
import { fetchToken, putSmsProvider } from "./mosaic-client.ts";
import { checkUrl, parseOptions, USAGE, type Options } from "./options.ts";
import { preflight, randomVerificationKey } from "./preflight.ts";
import type { SecretReader } from "./secret.ts";
import { readStackOutputs, type CommandRunner } from "./stack.ts";

/** Everything that crosses a boundary, injected so tests run on loopback with fakes and tiny backoffs. */
export interface RegisterDeps {
  readonly fetch: Fetch;
  readonly stdout: (line: string) => void;
  readonly stderr: (line: string) => void;
  readonly readSecret: SecretReader;
  readonly runCommand: CommandRunner;
  /** Backoff between retries; defaults 500 ms doubling up to 4 s. The count comes from --retries. */
  readonly backoff?: Partial<Omit<RetryPolicy, "retries">>;
  readonly randomKey?: () => string;
  readonly now?: () => number;
}

interface Resolved {
  readonly gatewayUri: string;
  readonly apiKey: string;
  readonly keySource: string;
}

async function resolveGateway(options: Options, deps: RegisterDeps): Promise<Resolved> {
  const stack = options.fromStack ? await readStackOutputs(deps.runCommand, options.fromStack.stack) : {};
  const errors: string[] = [];
  const rawUri = options.gatewayUri ?? stack.gatewayUri;
  const gatewayUri = rawUri === undefined ? undefined : checkUrl(rawUri, options.gatewayUri ? "GATEWAY_URI" : "the stack's gateway URI output", errors);
  if (rawUri === undefined) errors.push("the stack has no gateway URI output (url); set GATEWAY_URI");

  let apiKey: string | undefined;
  let keySource = "";
  if (options.apiKey !== undefined) {
    [apiKey, keySource] = [options.apiKey, "GATEWAY_API_KEY"];
  } else if (options.apiKeySecret !== undefined) {
    [apiKey, keySource] = [await deps.readSecret(options.apiKeySecret), `Secret Manager ${options.apiKeySecret}`];
  } else if (stack.apiKey !== undefined) {
    [apiKey, keySource] = [stack.apiKey, "the stack's outputs"];
  } else if (stack.apiKeySecret !== undefined) {
    [apiKey, keySource] = [await deps.readSecret(stack.apiKeySecret), `Secret Manager ${stack.apiKeySecret} (from the stack)`];
  } else {
    errors.push("the stack has no API key output (apiKey or apiKeySecretVersion); set GATEWAY_API_KEY");
  }
  if (errors.length > 0 || gatewayUri === undefined || apiKey === undefined) {
    throw new RegisterError(ExitCode.BadInput, "input", errors.join("; "));
  }
  return { gatewayUri, apiKey, keySource };
}

/** The CLI: returns the exit code; never throws. */
export async function runRegister(argv: readonly string[], env: Readonly<Record<string, string | undefined>>, deps: RegisterDeps): Promise<ExitCode> {
  const now = deps.now ?? (() => performance.now());
  const parsed = parseOptions(argv, env);
  const wantsJson = argv.includes("--json");
  if (parsed.kind === "help") {
    deps.stdout(USAGE);
    return ExitCode.Done;
  }
  // Known secrets, redacted from every line written, whatever its origin.
  const secrets: (string | undefined)[] = [env.MOSAIC_CLIENT_SECRET?.trim(), env.GATEWAY_API_KEY?.trim()];
  const out = (line: string) => deps.stdout(redact(line, secrets));
  const err = (line: string) => deps.stderr(redact(line, secrets));

  if (parsed.kind === "error") {
    const message = `bad input: ${parsed.errors.join("; ")}`;
    if (wantsJson) {
      out(formatJson({ ok: false, exit_code: ExitCode.BadInput, action: "unknown", steps: [], error: { step: "input", message } }, secrets));
    } else {
      err(formatFailure(message, "run with --help for the flags and env variables", ExitCode.BadInput));
    }
    return ExitCode.BadInput;
  }

  const options = parsed.options;
  const action: JsonResult["action"] = options.mode === "revert" ? "revert" : options.dryRun ? "dry-run" : "register";
  const steps: StepRecord[] = [];
  let gatewayUri = options.gatewayUri;
  const record = (step: Step, status: StepRecord["status"], detail: string, startedAt?: number) => {
    const entry: StepRecord = startedAt === undefined ? { step, status, detail } : { step, status, detail, ms: now() - startedAt };
    steps.push(entry);
    if (!options.json) out(formatProgress(entry));
  };
  let current: Step = "input";
  const http: HttpDeps = {
    fetch: deps.fetch,
    timeoutMs: options.timeoutMs,
    retry: { retries: options.retries, minTimeoutMs: deps.backoff?.minTimeoutMs ?? 500, maxTimeoutMs: deps.backoff?.maxTimeoutMs ?? 4000 },
    onRetry: ({ reason, retriesLeft }) => {
      if (!options.json) err(`… ${current}: ${reason}, retrying (${retriesLeft} left)`);
    },
  };

  try {
    let resolved: Resolved | undefined;
    if (options.mode === "register") {
      const t0 = now();
      resolved = await resolveGateway(options, deps);
      secrets.push(resolved.apiKey);
      gatewayUri = resolved.gatewayUri;
      record("input", "ok", `gateway ${resolved.gatewayUri}, API key from ${resolved.keySource}`, t0);
    }

    current = "token";
    let t0 = now();
    const token = await fetchToken(http, options.baseUrl, options.clientId, options.clientSecret);
    secrets.push(token);
    record("token", "ok", `client-credentials token from ${options.baseUrl}`, t0);

    if (options.mode === "revert") {
      if (options.dryRun) {
        record("revert", "skipped", "dry run: the tenant's SMS provider is unchanged");
      } else {
        current = "revert";
        t0 = now();
        const put = await putSmsProvider(http, options.baseUrl, token, { provider: "Default" });
        record("revert", "ok", `tenant SMS provider set back to Default (${put.status})`, t0);
      }
    } else if (resolved !== undefined) {
      current = "preflight";
      t0 = now();
      await preflight(http, resolved.gatewayUri, resolved.apiKey, deps.randomKey ?? randomVerificationKey);
      record("preflight", "ok", "the gateway echoed the verification key and refused a wrong API key", t0);
      if (options.dryRun) {
        record("register", "skipped", "dry run: the tenant's SMS provider is unchanged");
      } else {
        current = "register";
        t0 = now();
        const put = await putSmsProvider(http, options.baseUrl, token, {
          provider: "CustomGateway",
          custom_gateway: { uri: resolved.gatewayUri, api_key: resolved.apiKey },
        });
        record("register", "ok", `PUT /cis/v1/tenantsmsproviders CustomGateway → ${put.status}`, t0);
        record("confirmed", "ok", "Mosaic ran the validation challenge against the gateway and accepted it");
      }
    }
    if (options.json) {
      out(formatJson({ ok: true, exit_code: ExitCode.Done, action, base_url: options.baseUrl, ...(gatewayUri ? { gateway_uri: gatewayUri } : {}), steps }, secrets));
    }
    return ExitCode.Done;
  } catch (error) {
    const failure =
      error instanceof RegisterError
        ? error
        : new RegisterError(ExitCode.Internal, current, `unexpected error: ${error instanceof Error ? error.message : String(error)}`);
    const step = failure.step;
    if (options.json) {
      out(
        formatJson({
          ok: false,
          exit_code: failure.exitCode,
          action,
          base_url: options.baseUrl,
          ...(gatewayUri ? { gateway_uri: gatewayUri } : {}),
          steps: [...steps, { step, status: "failed", detail: failure.message }],
          error: { step, message: failure.message, ...(failure.hint === undefined ? {} : { hint: failure.hint }) },
        }, secrets),
      );
    } else {
      record(step, "failed", failure.message);
      err(formatFailure(failure.message, failure.hint, failure.exitCode));
    }
    return failure.exitCode;
  }
}
