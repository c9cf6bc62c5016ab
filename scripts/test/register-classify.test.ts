import { describe, expect, it } from "vitest";
import {
  classifyChallenge,
  classifyProviderUpdate,
  classifyToken,
  classifyWrongKeyChallenge,
  isTransientStatus,
  mosaicErrorText,
} from "../register/classify.ts";
import { ExitCode } from "../register/exit-codes.ts";
import { formatProgress, redact } from "../register/format.ts";

const code = (o: { ok: boolean; exitCode?: number }) => (o.ok ? 0 : o.exitCode);

describe("classification → exit codes", () => {
  it.each([
    [200, ExitCode.Done],
    [400, ExitCode.CredentialsRefused],
    [401, ExitCode.CredentialsRefused],
    [403, ExitCode.CredentialsRefused],
    [503, ExitCode.Network],
  ])("token %i → exit %i", (status, expected) => {
    expect(code(classifyToken(status, ""))).toBe(expected);
  });

  it.each([
    [200, "register", ExitCode.Done],
    [204, "register", ExitCode.Done],
    [400, "register", ExitCode.RegistrationRefused],
    [422, "register", ExitCode.RegistrationRefused],
    [401, "register", ExitCode.CredentialsRefused],
    [403, "register", ExitCode.CredentialsRefused],
    [500, "register", ExitCode.Network],
    [400, "revert", ExitCode.RegistrationRefused],
    [200, "revert", ExitCode.Done],
  ] as const)("PUT %i (%s) → exit %i", (status, mode, expected) => {
    expect(code(classifyProviderUpdate(status, "", mode))).toBe(expected);
  });

  it.each([
    [200, '{"key":"abc"}', ExitCode.Done],
    [200, '{"key":"abd"}', ExitCode.PreflightFailed],
    [200, "abc", ExitCode.PreflightFailed],
    [200, "{}", ExitCode.PreflightFailed],
    [401, "", ExitCode.PreflightFailed],
    [400, "Invalid request", ExitCode.PreflightFailed],
    [404, "", ExitCode.PreflightFailed],
    [302, "", ExitCode.PreflightFailed],
  ])("challenge %i %s → exit %i", (status, body, expected) => {
    expect(code(classifyChallenge(status, body, "abc"))).toBe(expected);
  });

  it.each([
    [401, true],
    [403, true],
    [400, true],
    [200, false],
    [404, false],
  ])("wrong-key challenge %i refused as it should: %s", (status, good) => {
    expect(classifyWrongKeyChallenge(status).ok).toBe(good);
  });

  it("explains a refused key and a wrong path differently", () => {
    const refused = classifyChallenge(401, "", "k");
    const path = classifyChallenge(404, "", "k");
    expect(!refused.ok && refused.hint).toMatch(/GATEWAY_API_KEY/);
    expect(!path.ok && path.hint).toMatch(/full path/);
  });

  it.each([
    [499, false],
    [500, true],
    [599, true],
    [429, false],
  ])("status %i transient: %s", (status, expected) => {
    expect(isTransientStatus(status)).toBe(expected);
  });

  it.each([
    ['{"message":"bad secret","error_code":401}', "bad secret (error_code 401)"],
    ['{"message":"m"}', "m"],
    ["<html>oops</html>", "<html>oops</html>"],
    ["", "(empty body)"],
  ])("Mosaic error text of %s", (body, expected) => {
    expect(mosaicErrorText(body)).toBe(expected);
  });
});

describe("output formatting", () => {
  it("formats one progress line per step", () => {
    expect(formatProgress({ step: "token", status: "ok", detail: "got it", ms: 41.6 })).toBe("✔ token      got it (42 ms)");
    expect(formatProgress({ step: "preflight", status: "failed", detail: "no" })).toBe("✘ preflight  no");
    expect(formatProgress({ step: "register", status: "skipped", detail: "dry" })).toBe("– register   dry");
  });

  it("redacts every known secret, ignoring empty ones", () => {
    expect(redact("a sekret1 b tok99 c sekret1", ["sekret1", "tok99", undefined, ""])).toBe("a [redacted] b [redacted] c [redacted]");
  });
});
