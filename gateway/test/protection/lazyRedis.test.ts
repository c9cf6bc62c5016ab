import path from "node:path";
import { build } from "esbuild";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../../../scripts/processes.ts";

/**
 * The default deployment (no REDIS_URL) must not load the Redis client: ioredis is ~25 ms of module loading on a
 * cold start. Bundled as `npm run build` bundles (ESM, splitting), the Redis store and ioredis must sit in chunks
 * that only openStore()'s dynamic import reaches.
 */
describe("the Redis client is loaded only when REDIS_URL is set", () => {
  it("bundled, nothing the store's entry imports statically holds ioredis; its dynamic import does", async () => {
    const { metafile } = await build({
      entryPoints: [path.join(REPO_ROOT, "gateway/src/protection/store.ts")],
      bundle: true,
      platform: "node",
      format: "esm",
      splitting: true,
      write: false,
      outdir: "out",
      metafile: true,
      logLevel: "silent",
    });
    const outputs = metafile!.outputs;
    const entry = Object.keys(outputs).find((o) => outputs[o]!.entryPoint?.endsWith("protection/store.ts"))!;
    const reach = (from: string, kinds: string[], seen = new Set<string>()): Set<string> => {
      seen.add(from);
      for (const i of outputs[from]!.imports) if (kinds.includes(i.kind) && !seen.has(i.path) && outputs[i.path]) reach(i.path, kinds, seen);
      return seen;
    };
    const inputsOf = (files: Set<string>) => [...files].flatMap((f) => Object.keys(outputs[f]!.inputs));
    const atStart = inputsOf(reach(entry, ["import-statement"]));
    const everything = inputsOf(reach(entry, ["import-statement", "dynamic-import"]));
    expect(atStart.some((i) => i.includes("rate-limiter-flexible/lib/RateLimiterMemory.js"))).toBe(true);
    expect(atStart.filter((i) => /node_modules\/(ioredis|@ioredis)\//.test(i) || i.endsWith("redisStore.ts"))).toEqual([]);
    expect(everything.some((i) => i.includes("node_modules/ioredis/"))).toBe(true);
  });
});
