// Which source an image was built from, for its tag: the last commit that touched the image's build inputs,
// marked `-dirty` when those inputs have uncommitted changes. Keyed to the build inputs rather than HEAD, so a
// commit that changes only docs or infra/ neither re-tags nor rebuilds the image, and re-runs converge.

import { execFileSync } from "node:child_process";

/** Everything the Dockerfiles read from the build context, and the files that decide how (infra/test/images.test.ts
 * checks the Dockerfiles' COPY sources are all here). */
export const BUILD_INPUTS = [
  "gateway/src",
  "gateway/Dockerfile",
  "gateway/Dockerfile.deno",
  ".dockerignore",
  "package.json",
  "package-lock.json",
  "tsconfig.json",
] as const;

export interface SourceRevision {
  /** The full commit hash. */
  commit: string;
  /** Uncommitted changes to the build inputs. */
  dirty: boolean;
}

/** The image tag for a revision: the commit's first 12 hex digits, `-dirty` appended when it does not describe the
 * files exactly. */
export function revisionTag(revision: SourceRevision): string {
  return `${revision.commit.slice(0, 12)}${revision.dirty ? "-dirty" : ""}`;
}

export type Git = (args: string[], cwd: string) => string;

const runGit: Git = (args, cwd) => execFileSync("git", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });

/** Reads the revision from git in `repoRoot`; undefined when there is no git or no commit touching the inputs (a
 * source archive): the image is then tagged `latest` only. */
export function readSourceRevision(repoRoot: string, git: Git = runGit): SourceRevision | undefined {
  try {
    const commit = git(["log", "-1", "--format=%H", "--", ...BUILD_INPUTS], repoRoot).trim();
    if (!/^[0-9a-f]{40,64}$/.test(commit)) return undefined;
    const status = git(["status", "--porcelain", "--", ...BUILD_INPUTS], repoRoot).trim();
    return { commit, dirty: status !== "" };
  } catch {
    return undefined;
  }
}
