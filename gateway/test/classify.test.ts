import { describe, expect, it } from "vitest";
import { classifySmcSend, classifySmcToken, normaliseInstanceUrl } from "../src/providers/smc/classify.ts";
import { classifyTelnyxAnswer } from "../src/providers/telnyx/classify.ts";

/** The pure code → outcome tables of the HTTP providers (Twilio's: twilioDecisions.test.ts). */

const answer = (status: number, body: unknown, headers: Record<string, string> = {}) => ({
  status,
  body: typeof body === "string" ? body : JSON.stringify(body),
  headers,
});
const telnyxError = (code: string) => ({
  errors: [{ code, title: "t", detail: "Messages cannot be sent from +14155550100 to +14155552671" }],
});

describe("Telnyx answers", () => {
  it.each([
    ["200 with data.id → sent", answer(200, { data: { id: "40385f64-5717-4562-b3fc-2c963f66afa6" } }), { kind: "sent", id: "40385f64-5717-4562-b3fc-2c963f66afa6" }],
    ["200 without data.id → unknown", answer(200, { data: {} }), { kind: "unknown" }],
    ["200 that is not JSON → unknown", answer(200, "<html>"), { kind: "unknown" }],
    ["200 whose id is not an id → unknown", answer(200, { data: { id: "+14155552671 Your code" } }), { kind: "unknown" }],
    ["409/40300 opted out → destination", answer(409, telnyxError("40300")), { kind: "destination_rejected", code: "40300" }],
    ["400/40310 invalid to → destination", answer(400, telnyxError("40310")), { kind: "destination_rejected", code: "40310" }],
    ["a destination code behind another code still wins", answer(422, { errors: [{ code: "10015" }, { code: "40300" }] }), { kind: "destination_rejected", code: "40300" }],
    ["401/10009 authentication → ours", answer(401, telnyxError("10009")), { kind: "provider_rejected", code: "10009" }],
    ["403/10010 authorization → ours", answer(403, telnyxError("10010")), { kind: "provider_rejected", code: "10010" }],
    ["400/40305 invalid from → ours", answer(400, telnyxError("40305")), { kind: "provider_rejected", code: "40305" }],
    ["400/40306 alphanumeric not configured → ours", answer(400, telnyxError("40306")), { kind: "provider_rejected", code: "40306" }],
    ["403/40309 region not enabled → ours", answer(403, telnyxError("40309")), { kind: "provider_rejected", code: "40309" }],
    ["403/40312 messaging disabled → ours", answer(403, telnyxError("40312")), { kind: "provider_rejected", code: "40312" }],
    ["403/40314 messaging disabled → ours", answer(403, telnyxError("40314")), { kind: "provider_rejected", code: "40314" }],
    ["422/10016 not E.164 → ours (it does not say which number)", answer(422, telnyxError("10016")), { kind: "provider_rejected", code: "10016" }],
    ["an unlisted 4xx code → ours", answer(422, telnyxError("99999")), { kind: "provider_rejected", code: "99999" }],
    ["a 4xx without a document → ours", answer(404, "not found"), { kind: "provider_rejected", code: "404" }],
    ["429/10011 → throttled, Retry-After kept", answer(429, telnyxError("10011"), { "retry-after": "1" }), { kind: "provider_rejected", code: "10011", throttled: true, retryAfterMs: 1000 }],
    ["429 without a code → throttled", answer(429, ""), { kind: "provider_rejected", code: "429", throttled: true }],
    ["10011 under a 400 → a refusal, not a throttle", answer(400, telnyxError("10011")), { kind: "provider_rejected", code: "10011" }],
    ["500/10007 → unknown", answer(500, telnyxError("10007")), { kind: "unknown", code: "10007" }],
    ["503 without a body → unknown", answer(503, ""), { kind: "unknown", code: "503" }],
    ["307 → ours, not followed", answer(307, ""), { kind: "provider_rejected", code: "307" }],
  ])("%s", (_label, input, expected) => {
    expect(classifyTelnyxAnswer(input)).toMatchObject(expected);
  });

  it("never keeps Telnyx's title or detail (they quote the numbers)", () => {
    for (const status of [400, 409, 422, 500]) {
      const outcome = classifyTelnyxAnswer(answer(status, telnyxError(status === 409 ? "40300" : "40305")));
      expect(JSON.stringify(outcome)).not.toMatch(/\+1415/);
    }
  });

  it("is not throttled without a 429", () => {
    expect(classifyTelnyxAnswer(answer(400, telnyxError("40305")))).not.toHaveProperty("throttled");
  });
});

describe("SMC send answers", () => {
  it.each([
    ["202 with tokenId → sent", answer(202, { tokenId: "c21NCNSDN2sMMWM2NUQ0" }), { kind: "sent", id: "c21NCNSDN2sMMWM2NUQ0" }],
    ["202 without tokenId → unknown", answer(202, {}), { kind: "unknown" }],
    ["202 that is not JSON → unknown", answer(202, "<html>"), { kind: "unknown" }],
    ["401 → refresh the token and send again", answer(401, { message: "Not Authorized", errorcode: 0 }), { kind: "token_rejected" }],
    ["400 MobileConnect errors → ours", answer(400, { errors: ["mobileNumbers is invalid: 14155552671"] }), { kind: "provider_rejected", code: "400" }],
    ["400 with an MC errorcode → ours", answer(400, { message: "x", errorcode: 10005 }), { kind: "provider_rejected", code: "10005" }],
    ["403/20002 insufficient privileges → ours", answer(403, { message: "x", errorcode: 20002 }), { kind: "provider_rejected", code: "20002" }],
    ["404 unknown message → ours", answer(404, { message: "x" }), { kind: "provider_rejected", code: "404" }],
    ["429/50100 → throttled, Retry-After kept", answer(429, { errorcode: 50100, retryAfter: 5 }, { "retry-after": "5" }), { kind: "provider_rejected", code: "50100", throttled: true, retryAfterMs: 5000 }],
    ["429/50100 with retryAfter only in the body", answer(429, { errorcode: 50100, retryAfter: 2 }), { kind: "provider_rejected", code: "50100", throttled: true, retryAfterMs: 2000 }],
    ["429/50200 blocked → throttled, nothing to wait for", answer(429, { errorcode: 50200 }), { kind: "provider_rejected", code: "50200", throttled: true, noRetry: true }],
    ["500 → unknown", answer(500, { message: "x" }), { kind: "unknown", code: "500" }],
    ["502 that is not JSON → unknown", answer(502, "<html>bad gateway</html>"), { kind: "unknown", code: "502" }],
    ["308 → ours, not followed", answer(308, ""), { kind: "provider_rejected", code: "308" }],
  ])("%s", (_label, input, expected) => {
    expect(classifySmcSend(input)).toMatchObject(expected);
  });

  it("never keeps SMC's error texts (they may quote the number)", () => {
    expect(JSON.stringify(classifySmcSend(answer(400, { errors: ["14155552671 is not subscribed"] })))).not.toMatch(/1415/);
  });

  it("keeps no retry delay for a block", () => {
    expect(classifySmcSend(answer(429, { errorcode: 50200 }, { "retry-after": "5" }))).not.toHaveProperty("retryAfterMs");
  });
});

describe("SMC token answers", () => {
  const enhanced = { access_token: "eyJ.secret", token_type: "Bearer", expires_in: 1079, rest_instance_url: "https://mc123.rest.marketingcloudapis.com/" };

  it.each([
    ["enhanced 200", "enhanced", answer(200, enhanced), { kind: "token", token: { accessToken: "eyJ.secret", expiresInMs: 1_079_000, restInstanceUrl: "https://mc123.rest.marketingcloudapis.com" } }],
    ["enhanced 200, instance URL without scheme", "enhanced", answer(200, { ...enhanced, rest_instance_url: "mc123.rest.marketingcloudapis.com" }), { kind: "token", token: { restInstanceUrl: "https://mc123.rest.marketingcloudapis.com" } }],
    ["legacy 200", "legacy", answer(200, { accessToken: "legacy-secret", expiresIn: 3600 }), { kind: "token", token: { accessToken: "legacy-secret", expiresInMs: 3_600_000 } }],
    ["an enhanced answer read as legacy has no token", "legacy", answer(200, enhanced), { kind: "provider_rejected", code: "token_200" }],
    ["200 without expires_in", "enhanced", answer(200, { access_token: "x" }), { kind: "provider_rejected", code: "token_200" }],
    ["401 invalid client", "enhanced", answer(401, { error: "invalid_client" }), { kind: "provider_rejected", code: "token_401" }],
    ["400", "legacy", answer(400, {}), { kind: "provider_rejected", code: "token_400" }],
    ["429", "enhanced", answer(429, { errorcode: 50100 }), { kind: "provider_rejected", code: "token_429", throttled: true, noRetry: true }],
    ["500: the SMS was never sent", "enhanced", answer(500, ""), { kind: "provider_rejected", code: "token_500" }],
    ["307", "enhanced", answer(307, ""), { kind: "provider_rejected", code: "token_307" }],
  ] as const)("%s", (_label, packageType, input, expected) => {
    expect(classifySmcToken(input, packageType)).toMatchObject(expected);
  });

  it("never repeats the answer in a failure", () => {
    const outcome = classifySmcToken(answer(200, { access_token: "eyJ.secret" }), "enhanced");
    expect(JSON.stringify(outcome)).not.toContain("eyJ.secret");
  });

  it.each([
    ["https://mc1.rest.marketingcloudapis.com/", "https://mc1.rest.marketingcloudapis.com"],
    ["mc1.rest.marketingcloudapis.com", "https://mc1.rest.marketingcloudapis.com"],
    ["mc1.rest.marketingcloudapis.com/", "https://mc1.rest.marketingcloudapis.com"],
    ["http://127.0.0.1:4010/", "http://127.0.0.1:4010"],
    ["https://user:pw@mc1.rest.marketingcloudapis.com/", undefined],
    ["https://mc1.rest.marketingcloudapis.com/?x=1", undefined],
    ["", undefined],
    [42, undefined],
  ])("rest_instance_url %s → %s", (input, expected) => {
    expect(normaliseInstanceUrl(input)).toBe(expected);
  });
});
