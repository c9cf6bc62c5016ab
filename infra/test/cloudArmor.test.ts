// The Cloud Armor rules as data: what they allow, throttle and deny, the limits of the rules language, and the
// Content-Length pattern checked against arithmetic.

import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { TELNYX_RECEIPT_PATH } from "../../gateway/src/receipts/telnyx.ts";
import { TWILIO_RECEIPT_PATH } from "../../gateway/src/receipts/twilio.ts";
import { armorRules, atMostPattern, pathPattern, PRIORITIES, RECEIPT_PATHS, type ArmorRule } from "../cloudArmor.js";
import { ARMOR_DEFAULTS } from "../regions.js";

const rules = (overrides: Partial<typeof ARMOR_DEFAULTS> = {}, gatewayPath = "/send-sms") =>
  armorRules({ gatewayPath, armor: { ...ARMOR_DEFAULTS, ...overrides } });
const byPriority = (list: ArmorRule[], priority: number) => list.find((r) => r.priority === priority)!;
const expression = (rule: ArmorRule) => (rule.match as { expr: { expression: string } }).expr.expression;

/** The regular expressions a rule's expression hands to `matches`, compiled as JavaScript regexes: the constructs
 * used (anchors, classes, counted repetition, non-capturing groups) mean the same in RE2. */
function patterns(rule: ArmorRule): RegExp[] {
  return [...expression(rule).matchAll(/\.matches\('([^']*)'\)/g)].map((m) => new RegExp(m[1]!));
}

describe("armorRules", () => {
  const enforced = rules();

  test("priorities in order, the default rule last with the API's fixed priority and match *", () => {
    expect(enforced.map((r) => r.priority)).toEqual([1000, 2000, 9000, 2147483647]);
    expect(byPriority(enforced, PRIORITIES.default).match).toEqual({ versionedExpr: "SRC_IPS_V1", config: { srcIpRanges: ["*"] } });
  });

  test("the throttle rule admits GET and POST on the gateway path, POST on receipts, GET on /health, and nothing else", () => {
    const allowed = byPriority(enforced, PRIORITIES.allowed);
    expect(expression(allowed)).toBe(
      "(request.method == 'POST' && request.path.matches('^(?:/send-sms|/receipts/twilio|/receipts/telnyx)$')) || " +
        "(request.method == 'GET' && request.path.matches('^(?:/send-sms|/health)$'))",
    );
    const [post, get] = patterns(allowed);
    for (const path of ["/send-sms", "/receipts/twilio", "/receipts/telnyx"]) expect(post!.test(path)).toBe(true);
    for (const path of ["/send-sms", "/health"]) expect(get!.test(path)).toBe(true);
    for (const path of ["/send-sms/x", "/x/send-sms", "/healthz", "/receipts/twilio2", "/", "/health", "/receipts"]) expect(post!.test(path)).toBe(false);
    expect(get!.test("/receipts/twilio")).toBe(false);
  });

  test("per client IP: conform allows, over the threshold answers 429", () => {
    const allowed = byPriority(rules({ rateLimitCount: 250, rateLimitIntervalSec: 10 }), PRIORITIES.allowed);
    expect(allowed.action).toBe("throttle");
    expect(allowed.rateLimitOptions).toEqual({
      conformAction: "allow",
      exceedAction: "deny(429)",
      enforceOnKey: "IP",
      rateLimitThreshold: { count: 250, intervalSec: 10 },
    });
  });

  test("a POST declaring more than the cap is denied before the throttle", () => {
    const oversize = byPriority(rules({ maxRequestBytes: 2048 }), PRIORITIES.oversize);
    expect(oversize.action).toBe("deny(403)");
    expect(expression(oversize)).toBe(
      `request.method == 'POST' && has(request.headers['content-length']) && !request.headers['content-length'].matches('${atMostPattern(2048)}')`,
    );
    const [cap] = patterns(oversize);
    expect(cap!.test("2048")).toBe(true);
    expect(cap!.test("2049")).toBe(false);
  });

  test("enforced: everything else and the default rule deny, and nothing is in preview", () => {
    expect(byPriority(enforced, PRIORITIES.everythingElse).action).toBe("deny(403)");
    expect(byPriority(enforced, PRIORITIES.default).action).toBe("deny(403)");
    expect(enforced.some((r) => r.preview)).toBe(false);
  });

  test("preview: every rule but the default is previewed, and the default allows", () => {
    const previewed = rules({ preview: true });
    expect(previewed.filter((r) => r.priority !== PRIORITIES.default).every((r) => r.preview === true)).toBe(true);
    const fallback = byPriority(previewed, PRIORITIES.default);
    expect(fallback.action).toBe("allow");
    expect(fallback.preview).toBeUndefined();
  });

  test("each expression has at most five subexpressions and each description at most 64 characters", () => {
    for (const rule of [...enforced, ...rules({ preview: true })]) {
      if ("expr" in rule.match) expect(expression(rule).split(/&&|\|\|/).length).toBeLessThanOrEqual(5);
      expect(rule.description.length).toBeLessThanOrEqual(64);
    }
  });

  test("a custom gateway path with a dot is matched literally", () => {
    const [post] = patterns(byPriority(rules({}, "/v1.0/sms"), PRIORITIES.allowed));
    expect(post!.test("/v1.0/sms")).toBe(true);
    expect(post!.test("/v1x0/sms")).toBe(false);
  });
});

test("the receipt paths Armor admits are the ones the gateway serves", () => {
  expect([...RECEIPT_PATHS].sort()).toEqual([TELNYX_RECEIPT_PATH, TWILIO_RECEIPT_PATH].sort());
});

describe("pathPattern", () => {
  test("refuses a path with characters a rule cannot match literally", () => {
    for (const bad of ["/send sms", "/send'sms", "/a|b", "send-sms", "/a(b)"]) expect(() => pathPattern([bad])).toThrow(/cannot match literally/);
  });

  test("a repeated path appears once", () => {
    expect(pathPattern(["/a", "/a", "/b"])).toBe("^(?:/a|/b)$");
  });
});

describe("atMostPattern", () => {
  test.each([
    [1024, ["0", "1", "999", "1023", "1024", "0999"], ["1025", "2000", "9999", "10000", "", "abc", "-1", "1e3", " 1"]],
    [16384, ["16384", "16383", "16299", "9999", "00001"], ["16385", "16390", "17000", "99999", "100000"]],
    [1, ["0", "1"], ["2", "10"]],
  ])("at most %i", (max, yes, no) => {
    const re = new RegExp(atMostPattern(max));
    for (const value of yes) expect(re.test(value), value).toBe(true);
    for (const value of no) expect(re.test(value), value).toBe(false);
  });

  test("matches a digit string exactly when it is no longer than max and its value is at most max", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000_000 }), fc.stringMatching(/^[0-9]{1,9}$/), (max, value) => {
        const expected = value.length <= String(max).length && BigInt(value) <= BigInt(max);
        expect(new RegExp(atMostPattern(max)).test(value)).toBe(expected);
      }),
    );
  });

  test("every value up to max matches, and max + 1 does not", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000_000 }), fc.nat(), (max, n) => {
        const re = new RegExp(atMostPattern(max));
        expect(re.test(String(n % (max + 1)))).toBe(true);
        expect(re.test(String(max + 1))).toBe(false);
      }),
    );
  });

  test("refuses what is not a positive integer", () => {
    for (const bad of [0, -5, 1.5, Number.NaN]) expect(() => atMostPattern(bad)).toThrow();
  });
});
