/** Deno's version, or undefined on Node. */
export function denoVersion(): string | undefined {
  return (globalThis as { Deno?: { version: { deno: string } } }).Deno?.version.deno;
}

/** The one place that knows which runtime we are on (for the startup log); everything else is shared source. */
export function runtimeVersion(): string {
  const deno = denoVersion();
  return deno ? `deno ${deno}` : `node ${process.versions.node}`;
}

/**
 * Deno versions on which the transport's guards against Deno's keep-alive re-send (providers/transport.ts) were
 * verified by gateway/test/deno/resend.test.ts. One of the guards is a private flag of Deno's node:http, so a new
 * version is added here only after that test passed on it; package.json and gateway/Dockerfile.deno pin the same
 * version (gateway/test/runtimePins.test.ts).
 */
export const DENO_VERIFIED_VERSIONS: readonly string[] = ["2.9.6"];

/** The startup warning for a Deno the guards were not verified on; undefined on Node and on a verified Deno. */
export function unverifiedDenoWarning(denoVersion: string | undefined): string | undefined {
  if (denoVersion === undefined || DENO_VERIFIED_VERSIONS.includes(denoVersion)) return undefined;
  return (
    `Deno ${denoVersion}: the guard against Deno re-sending a request on a new connection (an OTP sent twice) was ` +
    `verified on ${DENO_VERIFIED_VERSIONS.join(", ")} only; run gateway/test/deno/resend.test.ts on this version`
  );
}
