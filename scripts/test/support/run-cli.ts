import { runRegister, type RegisterDeps } from "../../register/run.ts";

export interface CliRun {
  readonly code: number;
  readonly stdout: string[];
  readonly stderr: string[];
  /** stdout and stderr together, to assert that no secret appears anywhere. */
  readonly all: string;
}

/** Runs the CLI's main with captured output, real fetch on loopback and a 1 ms backoff (no real waits). */
export async function runCli(argv: string[], env: Record<string, string | undefined>, deps: Partial<RegisterDeps> = {}): Promise<CliRun> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const code = await runRegister(argv, env, {
    fetch: globalThis.fetch,
    stdout: (l) => stdout.push(l),
    stderr: (l) => stderr.push(l),
    readSecret: async () => {
      throw new Error("no secret reader in this test");
    },
    runCommand: async () => ({ code: 127, stdout: "", stderr: "pulumi: not found" }),
    backoff: { minTimeoutMs: 1, maxTimeoutMs: 2 },
    ...deps,
  });
  return { code, stdout, stderr, all: [...stdout, ...stderr].join("\n") };
}
