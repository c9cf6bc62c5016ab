/** The one place that knows which runtime we are on; everything else is shared source. */
export const runtime: "deno" | "node" = "Deno" in globalThis ? "deno" : "node";

export function runtimeVersion(): string {
  const deno = (globalThis as { Deno?: { version: { deno: string } } }).Deno;
  return deno ? `deno ${deno.version.deno}` : `node ${process.versions.node}`;
}
