/**
 * The Deno version is pinned in three places that must agree (issue 8, item 19): the devDependency the tests run
 * on, the image's base, and the versions the transport's re-send guard was verified on (gateway/src/runtime.ts,
 * by gateway/test/deno/resend.test.ts). Bumping one alone fails here.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../../scripts/processes.ts";
import { DENO_VERIFIED_VERSIONS, unverifiedDenoWarning } from "../src/runtime.ts";

const read = (file: string) => readFileSync(path.join(REPO_ROOT, file), "utf8");

describe("the Deno version", () => {
  const devDependency = (JSON.parse(read("package.json")) as { devDependencies: Record<string, string> }).devDependencies.deno;
  const image = /^FROM denoland\/deno:([^@\s]+)/m.exec(read("gateway/Dockerfile.deno"))?.[1];

  it("is pinned exactly in package.json (no range: the tests must run on the version the guard was verified on)", () => {
    expect(devDependency).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it("is the same in package.json and gateway/Dockerfile.deno", () => {
    expect(image).toBe(devDependency);
  });

  it("is one the transport's re-send guard was verified on", () => {
    expect(DENO_VERIFIED_VERSIONS).toContain(devDependency);
  });
});

describe("unverifiedDenoWarning", () => {
  it.each([
    ["Node", undefined, false],
    ["a verified Deno", DENO_VERIFIED_VERSIONS[0], false],
    ["a newer Deno", "2.10.0", true],
    ["an older Deno", "2.9.5", true],
  ])("%s (%s) → warns: %s", (_label, version, warns) => {
    const warning = unverifiedDenoWarning(version);
    expect(warning !== undefined).toBe(warns);
    if (warning) expect(warning).toContain(`Deno ${version}`);
  });
});
