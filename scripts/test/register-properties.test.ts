import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { redact } from "../register/format.ts";
import { parseOptions } from "../register/options.ts";

/** The ways a remote server (or the CLI's own --json line) may echo a secret back (issue 8, item 9). */
const ENCODINGS: Record<string, (s: string) => string> = {
  raw: (s) => s,
  "URL-encoded": encodeURIComponent,
  "URL-encoded, lower-case hex": (s) => encodeURIComponent(s).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()),
  "form-encoded": (s) => new URLSearchParams({ s }).toString().slice(2),
  "JSON-escaped": (s) => JSON.stringify(s).slice(1, -1),
  "JSON-escaped, non-ASCII as \\u": (s) =>
    JSON.stringify(s)
      .slice(1, -1)
      .replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`),
  "JSON-escaped with \\/": (s) => JSON.stringify(s).slice(1, -1).replace(/\//g, "\\/"),
};

describe("properties", () => {
  it.each(Object.entries(ENCODINGS))("redact leaves no trace of a secret of 4+ characters echoed %s, whatever surrounds it", (_name, encode) => {
    fc.assert(
      fc.property(fc.string(), fc.string({ minLength: 4, unit: "grapheme" }), fc.string(), (before, secret, after) => {
        const echoed = encode(secret);
        fc.pre(!"[redacted]".includes(echoed) && !"[redacted]".includes(secret));
        const out = redact(`${before}${echoed}${after}${echoed}`, [secret]);
        expect(out).not.toContain(echoed);
        expect(out).not.toContain(secret);
      }),
    );
  });

  it("parseOptions never throws and never echoes the client secret or API key in an error", () => {
    fc.assert(
      // The "q7x" prefix keeps a generated secret from being an ordinary word of an error message ("argument").
      fc.property(fc.array(fc.string(), { maxLength: 6 }), fc.stringMatching(/^[A-Za-z0-9]{8,24}$/).map((s) => `q7x${s}`), (argv, secret) => {
        fc.pre(!argv.some((a) => a.includes(secret)));
        const result = parseOptions(argv, { MOSAIC_CLIENT_SECRET: secret, GATEWAY_API_KEY: secret, GATEWAY_URI: "nope" });
        if (result.kind === "error") expect(result.errors.join("\n")).not.toContain(secret);
      }),
    );
  });

  // Issue 8, item 7: a value typed on the command line — a secret passed as a flag, a stray argument — is never
  // printed back, wherever it sits among other arguments.
  it("parseOptions never prints a value from argv, only flag names", () => {
    const placed = (secret: string) =>
      fc.constantFrom([secret], ["--client-secret", secret], [`--client-secret=${secret}`], ["--bogus", secret], [`--api-key=${secret}`], ["--region", secret], [`--${secret}`]);
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom("--json", "--dry-run", "--revert", "--retries", "2", "--", "-h"), { maxLength: 4 }),
        fc.stringMatching(/^[A-Za-z0-9!$%]{8,24}$/).map((s) => `Q7x${s}`),
        fc.nat(4),
        (others, secret, at) =>
          fc.assert(
            fc.property(placed(secret), (args) => {
              const argv = [...others.slice(0, at), ...args, ...others.slice(at)];
              const result = parseOptions(argv, { MOSAIC_CLIENT_SECRET: "env-secret-0000", GATEWAY_API_KEY: "env-key-00000000", GATEWAY_URI: "https://gw.example.com/send-sms" });
              if (result.kind === "error") expect(result.errors.join("\n")).not.toContain(secret);
            }),
            { numRuns: 7 },
          ),
      ),
      { numRuns: 200 },
    );
  });
});
