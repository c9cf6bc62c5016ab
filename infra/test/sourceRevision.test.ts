// The image tag: the commit that last touched the build inputs, -dirty when they have uncommitted changes, and
// nothing but `latest` without git.

import { describe, expect, test } from "vitest";
import { imageTags } from "../containerImage.js";
import { BUILD_INPUTS, readSourceRevision, revisionTag, type Git } from "../sourceRevision.js";
import { REPO_ROOT } from "../../scripts/processes.ts";

const COMMIT = "0123456789abcdef0123456789abcdef01234567";

function fakeGit(answers: Record<string, string>): Git & { calls: string[][] } {
  const calls: string[][] = [];
  const git: Git = (args) => {
    calls.push(args);
    const answer = answers[args[0]!];
    if (answer === undefined) throw new Error("fatal: not a git repository");
    return answer;
  };
  return Object.assign(git, { calls });
}

describe("readSourceRevision", () => {
  test("asks git about the build inputs only", () => {
    const git = fakeGit({ log: `${COMMIT}\n`, status: "" });
    expect(readSourceRevision("/repo", git)).toEqual({ commit: COMMIT, dirty: false });
    expect(git.calls).toEqual([
      ["log", "-1", "--format=%H", "--", ...BUILD_INPUTS],
      ["status", "--porcelain", "--", ...BUILD_INPUTS],
    ]);
  });

  test.each([
    [" M gateway/src/app.ts\n", true],
    ["?? gateway/src/new.ts\n", true],
    ["", false],
  ])("git status %j makes it dirty=%s", (status, dirty) => {
    expect(readSourceRevision("/repo", fakeGit({ log: COMMIT, status }))?.dirty).toBe(dirty);
  });

  test.each([
    ["no git", {}],
    ["no commit touching the inputs", { log: "", status: "" }],
    ["garbage", { log: "fatal: bad revision", status: "" }],
  ])("%s gives no revision", (_, answers) => {
    expect(readSourceRevision("/repo", fakeGit(answers))).toBeUndefined();
  });

  test("this checkout has one", () => {
    expect(readSourceRevision(REPO_ROOT)?.commit).toMatch(/^[0-9a-f]{40,64}$/);
  });
});

describe("tags", () => {
  test.each([
    [{ commit: COMMIT, dirty: false }, "0123456789ab"],
    [{ commit: COMMIT, dirty: true }, "0123456789ab-dirty"],
  ])("%o is tagged %s", (revision, tag) => {
    expect(revisionTag(revision)).toBe(tag);
    expect(imageTags(revision)).toEqual([tag, "latest"]);
  });

  test("without a revision the image is tagged latest only", () => {
    expect(imageTags(undefined)).toEqual(["latest"]);
  });
});
