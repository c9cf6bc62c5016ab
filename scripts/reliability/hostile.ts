import fc from "fast-check";
import type { RawRequest } from "./rawHttp.ts";

/**
 * Generated hostile requests, each with at least one defect by construction, so none may ever reach the provider:
 * bad JSON, wrong types, huge and unicode fields, header injection, wrong methods and paths, missing and duplicated
 * headers, wrong content types, malformed HTTP and slow bodies. Message texts carry CANARY so the log scan can
 * prove none was logged.
 */

export const CANARY = "CANARY-otp-7f3a";
export interface Hostile extends RawRequest {
  category: string;
  method: string;
}

export interface HostileContext {
  path: string;
  apiKey: string;
}

/** A number libphonenumber accepts: used only together with another defect. */
const VALID_PHONE = "+14155552671";
const E164_SHAPE = /^\+[1-9]\d{1,14}$/;

const invalidPhone = fc.oneof(
  fc.constantFrom(
    "", "+", "+1", "+0123456789", "14155552671", "+1 415 555 2671", "+1-415-555-2671", "+1415555267١",
    "+１４１５５５５２６７１", "+14155552671\r\nX-Injected: 1", "+14155552671\u0000", "+99999999999999999", "tel:+14155552671",
  ),
  fc.string({ unit: "binary", maxLength: 40 }).filter((s) => !E164_SHAPE.test(s)),
);
const message = fc.string({ unit: "binary", maxLength: 200 }).map((s) => `${CANARY} ${s}`);
const notAString = fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.integer(), { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { maxKeys: 3 }));

/** JSON bodies that parse but must be refused (400, or 413 when huge). */
const badJsonValueBody = fc.oneof(
  fc.record({ phone_number: invalidPhone, sender_id: fc.string({ maxLength: 11 }), message }),
  fc.record({ phone_number: notAString, sender_id: fc.string({ maxLength: 11 }), message }),
  fc.record({ phone_number: fc.constant(VALID_PHONE), message: fc.oneof(notAString, fc.constantFrom("", "   ", "\n\t")) }),
  fc.record({ phone_number: fc.constant(VALID_PHONE), message: fc.string({ unit: "grapheme", minLength: 1601, maxLength: 1700 }).map((s) => `${CANARY}${s}`) }),
  // A sender_id of the wrong type is refused; a long one is not a defect (it is ignored where invalid: README).
  fc.record({ phone_number: fc.constant(VALID_PHONE), message, sender_id: notAString.filter((v) => v !== null) }),
  fc.record({ phone_number: fc.constant(VALID_PHONE), message: fc.constantFrom("\u200B", " \u200D\uFEFF ", `${CANARY}\u0000`, `\u001B${CANARY}`, `${CANARY}\uD800`) }),
  fc.record({ phone_number: fc.constant(VALID_PHONE), message: fc.string({ maxLength: 20_000, minLength: 17_000 }).map((s) => `${CANARY}${s}`) }),
  fc.oneof(fc.constant(null), fc.integer(), fc.string().map((s) => `${CANARY}${s}`), fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 4 })),
  fc.jsonValue({ maxDepth: 3 }).filter((v) => typeof v !== "object" || v === null || Array.isArray(v) || typeof (v as Record<string, unknown>).phone_number !== "string"),
).map((v) => JSON.stringify(v));

const brokenJsonBody = fc.oneof(
  fc.string({ unit: "binary", maxLength: 300 }).filter((s) => {
    try {
      JSON.parse(s);
      return false;
    } catch {
      return true;
    }
  }),
  fc.constantFrom(
    `{"phone_number":"${VALID_PHONE}","message":"${CANARY}"`,
    `{"phone_number":"${VALID_PHONE}","message":"${CANARY}",}`,
    `{'phone_number':'${VALID_PHONE}','message':'${CANARY}'}`,
    `\u0000{"phone_number":"${VALID_PHONE}"}`,
    `{"__proto__":{"x":1},"phone_number":1}`,
  ),
);

/** A request whose body would be a valid send: only ever used with another defect. */
const validBody = JSON.stringify({ phone_number: VALID_PHONE, sender_id: "", message: `${CANARY} 123456` });

interface Parts {
  method: string;
  path: string;
  headers: [string, string][];
  body: string;
  /** Declared Content-Length; defaults to the body's byte length. */
  contentLength?: string | null;
  slow?: { pieces: number; delayMs: number; truncate: boolean };
  httpVersion?: string;
}

function build(category: string, p: Parts): Hostile {
  const body = Buffer.from(p.body, "utf8");
  const headers = [["Host", "127.0.0.1"], ...p.headers] as [string, string][];
  if (p.contentLength !== null) headers.push(["Content-Length", p.contentLength ?? String(body.length)]);
  const head = Buffer.from(
    `${p.method} ${p.path} ${p.httpVersion ?? "HTTP/1.1"}\r\n${headers.map(([k, v]) => `${k}: ${v}\r\n`).join("")}\r\n`,
    "latin1",
  );
  if (!p.slow) return { category, method: p.method, pieces: [Buffer.concat([head, body])], delayMs: 0 };
  const sent = p.slow.truncate ? body.subarray(0, Math.max(0, body.length - 3)) : body;
  const size = Math.max(1, Math.ceil(sent.length / p.slow.pieces));
  const pieces: Buffer[] = [head];
  for (let i = 0; i < sent.length; i += size) pieces.push(sent.subarray(i, i + size));
  return { category, method: p.method, pieces, delayMs: p.slow.delayMs };
}

export function hostileRequests(ctx: HostileContext): fc.Arbitrary<Hostile> {
  const json: [string, string] = ["Content-Type", "application/json"];
  const key: [string, string] = ["X-API-Key", ctx.apiKey];
  const wrongKey = fc.oneof(
    fc.string({ unit: "binary-ascii", minLength: 0, maxLength: 64 }).filter((s) => s !== ctx.apiKey && !/[\r\n\0]/.test(s)),
    fc.constantFrom(ctx.apiKey.toUpperCase(), `${ctx.apiKey} `.trim() + "x", ctx.apiKey.slice(0, -1), `${ctx.apiKey},${ctx.apiKey}`),
  );
  const badAuthHeaders = fc.oneof(
    fc.constant<[string, string][]>([]),
    wrongKey.map((k): [string, string][] => [["X-API-Key", k]]),
    fc.constant<[string, string][]>([key, ["X-API-Key", "duplicate-but-wrong-key"]]),
    fc.constant<[string, string][]>([key, key]),
    fc.constant<[string, string][]>([["X-Api-Key ", ctx.apiKey]]),
    fc.constant<[string, string][]>([["Authorization", `Bearer ${ctx.apiKey}`]]),
  );

  const bodyDefect = fc
    .tuple(fc.oneof(badJsonValueBody, brokenJsonBody), fc.constantFrom("application/json", "application/json; charset=utf-8", "APPLICATION/JSON"))
    .map(([body, type]) => build("body: bad JSON, wrong types, huge or unicode fields", { method: "POST", path: ctx.path, headers: [key, ["Content-Type", type]], body }));

  const authDefect = fc
    .tuple(badAuthHeaders, fc.constantFrom("POST", "GET"))
    .map(([headers, method]) =>
      build("auth: missing, wrong or duplicated X-API-Key", {
        method, path: ctx.path, headers: [...headers, json, ["X-Verification-Key", "v"]], body: method === "POST" ? validBody : "",
        contentLength: method === "POST" ? undefined : null,
      }),
    );

  const contentTypeDefect = fc
    .constantFrom<[string, string][]>(
      [],
      [["Content-Type", "text/plain"]],
      [["Content-Type", "application/x-www-form-urlencoded"]],
      [["Content-Type", "multipart/form-data; boundary=x"]],
      [["Content-Type", "application/json; charset=latin1"]],
      [["Content-Type", "application/jsonx"]],
      [["Content-Type", "text/plain"], json],
      [["Content-Type", "application/json"], ["Content-Encoding", "gzip"]],
      [["Content-Type", "application/json"], ["Content-Encoding", "br, identity"]],
    )
    .map((headers) => build("content type: missing, wrong or duplicated", { method: "POST", path: ctx.path, headers: [key, ...headers], body: validBody }));

  const methodOrPath = fc
    .tuple(
      fc.constantFrom("PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "HEAD", "POST", "GET"),
      fc.oneof(
        fc.constant(ctx.path),
        fc.constantFrom("/", "//send-sms", "/send-sms/../admin", "/%2e%2e/etc/passwd", "/send%2Dsms%00", "/healthz/x", "/health/x", "/.env", "*"),
        fc.webPath().filter((p) => p !== ctx.path && !p.toLowerCase().startsWith(ctx.path) && !p.toLowerCase().startsWith("/health")),
      ),
      fc.boolean(),
    )
    .filter(([method, path]) => !((method === "POST" || method === "GET" || method === "HEAD") && path === ctx.path))
    .map(([method, path, withKey]) =>
      build("method or path: wrong methods, unknown paths", {
        method, path, headers: [...(withKey ? [key] : []), json, ["X-Verification-Key", "v"]], body: validBody,
      }),
    );

  const challengeDefect = fc
    .constantFrom<[string, string][]>([], [["X-Verification-Key", ""]])
    .map((headers) => build("GET challenge without X-Verification-Key", { method: "GET", path: ctx.path, headers: [key, ...headers], body: "", contentLength: null }));

  // Each breaks HTTP/1.1 itself: Node's parser (or a missing Host) decides before the app sees anything.
  const malformed = fc
    .constantFrom<Parts>(
      { method: "POST", path: ctx.path, headers: [key, json, ["X-Evil", "a\nb"]], body: validBody },
      { method: "POST", path: ctx.path, headers: [key, json, ["X-Evil", "a\rb"]], body: validBody },
      { method: "POST", path: ctx.path, headers: [key, json, ["X-Evil", "a\u0000b"]], body: validBody },
      { method: "POST", path: ctx.path, headers: [["X-API-Key", "wrong"], [" ", ctx.apiKey], json], body: validBody },
      { method: "POST", path: ctx.path, headers: [key, json, ["Transfer-Encoding", "chunked"]], body: validBody },
      { method: "POST", path: ctx.path, headers: [key, json, ["Content-Length", "5"]], body: validBody },
      { method: "POST", path: ctx.path, headers: [key, json], body: validBody, contentLength: "-1" },
      { method: "POST", path: ctx.path, headers: [key, json], body: validBody, contentLength: "abc" },
      { method: "G@T", path: ctx.path, headers: [key], body: "", contentLength: null },
      // Header injection through the request target: the injected key is a wrong one.
      { method: "POST", path: `${ctx.path} HTTP/1.1\r\nX-API-Key: injected-wrong-key-000\r\nX-Smuggle: 1`, headers: [json], body: validBody },
      { method: "POST", path: ctx.path, headers: [key, json], body: validBody, httpVersion: "HTTP/9.9" },
      { method: "POST", path: ctx.path, headers: [key, json, ["X-Big", "x".repeat(20_000)]], body: validBody },
      { method: "GET", path: `${ctx.path}?${"a".repeat(20_000)}`, headers: [key], body: "", contentLength: null },
      { method: "POST", path: "/send sms", headers: [key, json], body: validBody },
    )
    .map((p) => build("malformed HTTP: CR/LF/NUL in headers, smuggling, bad lengths, oversized head", p));

  const missingHost = fc.constant(0).map(() => {
    const h = build("missing Host header", { method: "POST", path: ctx.path, headers: [["X-API-Key", "wrong-key-0000000000"], json], body: validBody });
    return { ...h, pieces: [Buffer.from((h.pieces[0] as Buffer).toString("latin1").replace("Host: 127.0.0.1\r\n", ""), "latin1")] };
  });

  const slowBody = fc
    .tuple(badJsonValueBody, fc.integer({ min: 2, max: 5 }), fc.integer({ min: 50, max: 400 }), fc.boolean())
    .map(([body, pieces, delayMs, truncate]) =>
      build("slow body (trickled, or never finished)", { method: "POST", path: ctx.path, headers: [key, json], body, slow: { pieces, delayMs, truncate } }),
    );

  return fc.oneof(
    { arbitrary: bodyDefect, weight: 40 },
    { arbitrary: authDefect, weight: 15 },
    { arbitrary: contentTypeDefect, weight: 10 },
    { arbitrary: methodOrPath, weight: 15 },
    { arbitrary: challengeDefect, weight: 3 },
    { arbitrary: malformed, weight: 12 },
    { arbitrary: missingHost, weight: 2 },
    { arbitrary: slowBody, weight: 2 },
  );
}
