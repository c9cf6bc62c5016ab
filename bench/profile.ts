/**
 * Where the Node gateway's CPU goes under the bench's load: `npx tsx bench/profile.ts [--seconds 15] [--out FILE]`.
 * Builds the bundle as `npm run build` does plus source maps (into a temporary directory; dist/ is left alone),
 * runs it with `node --cpu-prof` against a fake Twilio answering at once, loads it at 50 connections with Mosaic's
 * POST, stops it with SIGTERM (the profile is written on exit), and summarises self time by module and by function,
 * each bundle position mapped back to its source through the source map (node:module SourceMap).
 * Prints markdown; `--out bench/PROFILE.md` writes it too; `--top N` lists N modules, owners and functions (30).
 * `--script bench/baselines/express-sdk.mjs` profiles a baseline instead (its sources as they are, no bundle), to
 * set the gateway's areas beside the same work done minimally.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { SourceMap } from "node:module";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import { REPO_ROOT, startServer } from "../scripts/processes.ts";
import { gatewayEnv, PATH, sendHeaders, SMS_BODY, startFakeTwilios } from "./lib/fixtures.ts";
import { summarizeProfile, type CpuProfile } from "./lib/cpuProfile.ts";

const { values: flags } = parseArgs({
  options: { seconds: { type: "string" }, out: { type: "string" }, top: { type: "string" }, script: { type: "string" } },
});
const seconds = Number(flags.seconds ?? 15);
const out = flags.out;
const top = Number(flags.top ?? 30);
const script = flags.script;
const WARM_SECONDS = 3;
const CONNECTIONS = 50;

/**
 * The build script's own esbuild command (package.json "build", after its `rm dist`), run by the shell as npm runs
 * it, with source maps and another output directory appended (esbuild takes the last --outdir).
 */
function buildWithSourceMaps(outdir: string): void {
  const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")) as { scripts: { build: string } };
  const esbuild = pkg.scripts.build.slice(pkg.scripts.build.lastIndexOf("esbuild "));
  execFileSync("sh", ["-c", `${esbuild} --sourcemap --outdir="${outdir}" --log-level=warning`], {
    cwd: REPO_ROOT,
    env: { ...process.env, PATH: `${path.join(REPO_ROOT, "node_modules/.bin")}:${process.env.PATH}` },
    stdio: ["ignore", "inherit", "inherit"],
  });
}

async function main() {
  const work = mkdtempSync(path.join(os.tmpdir(), "gateway-profile-"));
  const dist = path.join(work, "dist");
  try {
    if (!script) buildWithSourceMaps(dist);
    const fakes = await startFakeTwilios(1, 0);
    const gateway = await startServer(
      script
        ? { file: process.execPath, args: ["--cpu-prof", "--cpu-prof-dir", work, path.resolve(script)] }
        : { file: process.execPath, args: ["--cpu-prof", "--cpu-prof-dir", work, "gateway.mjs"], cwd: dist },
      // As the bench's "gateway" row: the defaults (duplicate suppression and limits in memory, never reached).
      gatewayEnv(fakes.fakes[0]!.url, { CONCURRENCY: "200" }),
    );
    let requests = 0;
    try {
      const url = `http://127.0.0.1:${gateway.ready.port}${PATH}`;
      const run = (duration: number) =>
        autocannon({ url, connections: CONNECTIONS, duration, method: "POST", headers: sendHeaders, body: SMS_BODY, idReplacement: true, timeout: 10 });
      for (const duration of [WARM_SECONDS, seconds]) {
        const r = await run(duration);
        requests += r["2xx"];
        if (r.non2xx + r.errors > 0) throw new Error(`${r.non2xx} non-2xx answers and ${r.errors} errors under load`);
      }
    } finally {
      await gateway.stop("SIGTERM");
      await fakes.stop();
    }
    const file = readdirSync(work).find((f) => f.endsWith(".cpuprofile"));
    if (!file) throw new Error("no .cpuprofile written: did the gateway exit through process.exit on SIGTERM?");
    const profile = JSON.parse(readFileSync(path.join(work, file), "utf8")) as CpuProfile;
    const maps = new Map<string, SourceMap | null>();
    const locate = (url: string, line: number, column: number) => {
      if (!url.startsWith("file://")) return undefined;
      const file = fileURLToPath(url);
      if (!maps.has(file)) {
        try {
          maps.set(file, new SourceMap(JSON.parse(readFileSync(`${file}.map`, "utf8"))));
        } catch {
          maps.set(file, null);
        }
      }
      const map = maps.get(file);
      // Sources run as they are (a baseline): the file itself.
      if (!map) return { source: path.relative(REPO_ROOT, file), line: line + 1 };
      const entry = map.findEntry(line, column) as { originalSource?: string; originalLine?: number } | undefined;
      if (!entry?.originalSource) return undefined;
      // Source map paths are relative to the map's own directory (dist/ or dist/chunks/).
      const source = entry.originalSource.startsWith("file://")
        ? fileURLToPath(entry.originalSource)
        : path.resolve(path.dirname(file), entry.originalSource);
      return { source: path.relative(REPO_ROOT, source), line: (entry.originalLine ?? 0) + 1 };
    };
    const md = summarizeProfile(profile, locate, {
      top,
      title: `CPU profile of ${script ? `\`${script}\`` : "the Node gateway bundle"} under load (${CONNECTIONS} connections, ${WARM_SECONDS} + ${seconds} s)`,
      requests,
      note:
        `${new Date().toISOString()}, Node ${process.version}, ${os.cpus()[0]?.model ?? ""} × ${os.cpus().length}, load average ` +
        `${os.loadavg().map((l) => l.toFixed(1)).join(" / ")}. The profile covers the whole process life (start, warm-up, ` +
        `measured load, exit); shares are of the time the process was not idle.`,
    });
    process.stdout.write(md);
    if (out) writeFileSync(path.resolve(out), md);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
