import { spawn } from "node:child_process";
import { runRegister, type RegisterDeps } from "../../register/run.ts";
import { REPO_ROOT } from "../../processes.ts";

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

export interface NpmRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * `npm run --silent <script> -- <args>` from the repository root, output captured: the command lines the README
 * and infra give users, run as they are. `env` replaces the parent's environment when given.
 */
export function npmRun(script: string, args: string[], env?: NodeJS.ProcessEnv): Promise<NpmRun> {
  return new Promise((resolve, reject) => {
    const child = spawn("npm", ["run", "--silent", script, "--", ...args], {
      cwd: REPO_ROOT,
      ...(env && { env }),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}
