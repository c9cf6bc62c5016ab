/**
 * Summarises a V8 .cpuprofile (`node --cpu-prof`) as self time by area, by module and by function, as markdown.
 * Format: nodes [{id, callFrame {functionName, url, lineNumber, columnNumber} (0-based), children}], samples
 * (node ids) and timeDeltas (µs before each sample) — the Chrome DevTools Protocol's Profiler.Profile.
 */

export interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
    children?: number[];
  }[];
  samples: number[];
  timeDeltas: number[];
}

/** Maps a bundle position (0-based line and column) to its source file (relative to the repo) and 1-based line. */
export type Locate = (url: string, line: number, column: number) => { source: string; line: number } | undefined;

interface Frame {
  fn: string;
  module: string;
  where: string;
}

/** The package a node_modules path belongs to (`@scope/name` or `name`), or the path itself. */
export function moduleOf(source: string): string {
  const at = source.lastIndexOf("node_modules/");
  if (at < 0) return source;
  const parts = source.slice(at + "node_modules/".length).split("/");
  return parts[0]!.startsWith("@") ? `${parts[0]}/${parts[1]}` : parts[0]!;
}

/** Coarse areas, first match wins: what a change to the send path can aim at. */
const AREAS: [RegExp, string][] = [
  [/^\(garbage collector\)$/, "GC"],
  [/^\((program|native)\)$/, "native code (syscalls such as writev, JSON, RegExp) and V8"],
  [/^(express|router|finalhandler|send|serve-static|path-to-regexp|encodeurl|escape-html|parseurl|on-finished|vary|statuses|accepts|negotiator|content-disposition|cookie|cookie-signature|fresh|range-parser|proxy-addr|forwarded|ipaddr\.js|etag|mime-types|mime-db|merge-descriptors|depd|utils-merge|methods|qs|side-channel.*|call-bind.*|get-intrinsic|es-.*|function-bind|has-.*|gopd|hasown|dunder-proto|math-intrinsics|object-inspect|http-errors|setprototypeof|inherits|toidentifier|debug|ms|once|wrappy|is-promise)$/, "Express 5 and its small dependencies"],
  [/^(body-parser|raw-body|iconv-lite|safer-buffer|content-type|type-is|media-typer|bytes|unpipe)$/, "body parsing (body-parser, raw-body)"],
  [/^twilio$|^axios$|^dayjs$|^scmp$|^xmlbuilder$|^jsonwebtoken$|^https-proxy-agent$/, "twilio SDK"],
  [/^libphonenumber-js$/, "libphonenumber-js"],
  [/^zod$/, "zod"],
  [/^gateway\/src\/providers\//, "gateway: provider (transport, SDK glue)"],
  [/^gateway\/src\//, "gateway: app, logging, checks"],
  [/^bench\/baselines\//, "a baseline's own code"],
  [/^node:(_http_|http|internal\/http)/, "Node http"],
  [/^node:(net|internal\/net|internal\/stream_base_commons|_stream_|stream|internal\/streams)/, "Node net and streams"],
  [/^node:/, "Node, other"],
];

export function areaOf(module: string): string {
  return AREAS.find(([re]) => re.test(module))?.[1] ?? "other";
}

const pct = (n: number, total: number) => `${((100 * n) / total).toFixed(1)}%`;

export function summarizeProfile(
  profile: CpuProfile,
  locate: Locate,
  opts: { title: string; note: string; top?: number; /** Requests answered over the profile: adds µs per request. */ requests?: number },
): string {
  const top = opts.top ?? 30;
  const frames = new Map<number, Frame | "idle" | "root">();
  for (const node of profile.nodes) {
    const { functionName, url, lineNumber, columnNumber } = node.callFrame;
    if (functionName === "(idle)") frames.set(node.id, "idle");
    else if (functionName === "(root)") frames.set(node.id, "root");
    else if (!url) {
      const special = /^\(.*\)$/.test(functionName);
      frames.set(node.id, { fn: functionName, module: special ? functionName : "(native)", where: "" });
    } else if (url.startsWith("node:")) {
      frames.set(node.id, { fn: functionName || "(anonymous)", module: url, where: `${url}:${lineNumber + 1}` });
    } else {
      const at = locate(url, lineNumber, columnNumber);
      const source = at?.source ?? url;
      frames.set(node.id, { fn: functionName || "(anonymous)", module: moduleOf(source), where: at ? `${at.source}:${at.line}` : url });
    }
  }
  // The owner of a node: the nearest frame up the stack (itself included) in the gateway's or a package's code —
  // where a native (writev) or a Node internal was called from, which is what a change to our code can move.
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const ownerOf = (id: number): Frame | undefined => {
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const f = frames.get(at);
      if (f && typeof f === "object" && !f.module.startsWith("node:") && !/^\(.*\)$/.test(f.module)) return f;
    }
    return undefined;
  };
  // Self time: each sample's node gets the time until the next sample.
  const self = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = profile.timeDeltas[i + 1] ?? 0;
    self.set(profile.samples[i]!, (self.get(profile.samples[i]!) ?? 0) + dt);
  }
  const byModule = new Map<string, number>();
  const byArea = new Map<string, number>();
  const byFunction = new Map<string, { frame: Frame; us: number }>();
  const byOwner = new Map<string, { frame: Frame; us: number }>();
  const byOwnerArea = new Map<string, number>();
  let busy = 0;
  let idle = 0;
  for (const [id, us] of self) {
    const frame = frames.get(id);
    if (frame === "idle" || frame === undefined) {
      idle += us;
      continue;
    }
    if (frame === "root") continue;
    busy += us;
    byModule.set(frame.module, (byModule.get(frame.module) ?? 0) + us);
    const area = areaOf(frame.module);
    byArea.set(area, (byArea.get(area) ?? 0) + us);
    const key = `${frame.fn}\u0000${frame.where}`;
    const entry = byFunction.get(key) ?? { frame, us: 0 };
    entry.us += us;
    byFunction.set(key, entry);
    const owner = /^\((garbage collector|program)\)$/.test(frame.module) ? frame : ownerOf(id) ?? frame;
    const ownerKey = `${owner.fn}\u0000${owner.where}`;
    const ownerEntry = byOwner.get(ownerKey) ?? { frame: owner, us: 0 };
    ownerEntry.us += us;
    byOwner.set(ownerKey, ownerEntry);
    const ownerArea = areaOf(owner.module);
    byOwnerArea.set(ownerArea, (byOwnerArea.get(ownerArea) ?? 0) + us);
  }
  // µs of the main thread's time per request answered: comparable across subjects (a baseline's profile beside the
  // gateway's), where shares are not.
  const perRequestHeader = opts.requests ? ["µs per request"] : [];
  const perRequest = (us: number) => (opts.requests ? [(us / opts.requests).toFixed(1)] : []);
  const sorted = <T>(m: Map<string, T>, us: (t: T) => number) => [...m].sort((a, b) => us(b[1]) - us(a[1]));
  const rows = (header: string[], body: string[][]) =>
    [header, header.map(() => "---"), ...body].map((r) => `| ${r.join(" | ")} |`).join("\n");
  return `# ${opts.title}

${opts.note} Busy ${(busy / 1e6).toFixed(1)} s, idle ${(idle / 1e6).toFixed(1)} s${
    opts.requests ? `, ${opts.requests.toLocaleString("en-US")} requests answered: ${(busy / opts.requests).toFixed(1)} µs of the main thread per request` : ""
  }.

## Self time by area

${rows(["area", "self time", ...perRequestHeader], sorted(byArea, (x) => x).map(([a, us]) => [a, pct(us, busy), ...perRequest(us)]))}

## Self time by module (top ${top})

${rows(["module", "area", "self time"], sorted(byModule, (x) => x).slice(0, top).map(([m, us]) => [`\`${m}\``, areaOf(m), pct(us, busy)]))}

## Time by owner

The owner of a sample is the nearest frame up its stack in the gateway's or a package's code: Node internals and
natives (\`writev\`, JSON, RegExp) are counted where they were called from. What is left under "Node" ran with no
gateway or package frame on the stack (socket reads, timers, the HTTP parser's callbacks into Node's own code).

${rows(["owner's area", "time", ...perRequestHeader], sorted(byOwnerArea, (x) => x).map(([a, us]) => [a, pct(us, busy), ...perRequest(us)]))}

${rows(
  ["owner (top " + top + ")", "where", "area", "time"],
  sorted(byOwner, (x) => x.us)
    .slice(0, top)
    .map(([, { frame, us }]) => [`\`${frame.fn}\``, frame.where ? `\`${frame.where}\`` : "", areaOf(frame.module), pct(us, busy)]),
)}

## Self time by function (top ${top})

Where the time was spent itself, natives included, with no attribution to callers.

${rows(
  ["function", "where", "area", "self time"],
  sorted(byFunction, (x) => x.us)
    .slice(0, top)
    .map(([, { frame, us }]) => [`\`${frame.fn}\``, frame.where ? `\`${frame.where}\`` : "", areaOf(frame.module), pct(us, busy)]),
)}
`;
}
