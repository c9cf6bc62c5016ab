/** The CLI's exit codes: a contract with scripts and with infra's `local.Command`. */
export const ExitCode = {
  Done: 0,
  /** Unexpected internal failure (a bug), distinct from every documented outcome. */
  Internal: 1,
  BadInput: 2,
  CredentialsRefused: 3,
  PreflightFailed: 4,
  RegistrationRefused: 5,
  Network: 6,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export type Step = "input" | "token" | "preflight" | "register" | "confirmed" | "revert";

/** A failure the CLI knows how to explain: carries its exit code, the step it happened in, and a hint. */
export class RegisterError extends Error {
  override readonly name = "RegisterError";
  constructor(
    readonly exitCode: ExitCode,
    readonly step: Step,
    message: string,
    readonly hint?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
