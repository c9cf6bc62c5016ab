import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { redact } from "../register/format.ts";
import { parseOptions } from "../register/options.ts";

describe("properties", () => {
  it("redact leaves no trace of any secret of 4+ characters, whatever surrounds it", () => {
    fc.assert(
      fc.property(fc.string(), fc.string({ minLength: 4 }), fc.string(), (before, secret, after) => {
        fc.pre(!"[redacted]".includes(secret));
        expect(redact(`${before}${secret}${after}${secret}`, [secret])).not.toContain(secret);
      }),
    );
  });

  it("parseOptions never throws and never echoes the client secret or API key in an error", () => {
    fc.assert(
      // The "q7x" prefix keeps a generated secret from being an ordinary word of an error message ("argument");
      // an argv that itself holds the secret may be echoed back as an unexpected argument, and is not this property.
      fc.property(fc.array(fc.string(), { maxLength: 6 }), fc.stringMatching(/^[A-Za-z0-9]{8,24}$/).map((s) => `q7x${s}`), (argv, secret) => {
        fc.pre(!argv.some((a) => a.includes(secret)));
        const result = parseOptions(argv, { MOSAIC_CLIENT_SECRET: secret, GATEWAY_API_KEY: secret, GATEWAY_URI: "nope" });
        if (result.kind === "error") expect(result.errors.join("\n")).not.toContain(secret);
      }),
    );
  });
});
