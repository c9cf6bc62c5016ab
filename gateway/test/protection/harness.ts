import { createDedupe, type Dedupe, type DedupeOptions, type DedupeResult, type LookupAnswer, type SendRecord } from "../../src/protection/dedupe.ts";
import { createProtectionKeys } from "../../src/protection/keys.ts";
import { createLimits, type LimitedDestination, type Limits, type LimitVerdict } from "../../src/protection/limits.ts";
import type { LimitSettings } from "../../src/protection/settings.ts";
import type { ProtectionStore } from "../../src/protection/store.ts";
import { deferred, type FakeClock } from "./support.ts";

/**
 * The send path as send.ts will wire it (ARCH.md: dedupe → limits → route → attempt chain), around a fake
 * provider: enough to test the protection modules together without the HTTP layer.
 */

export const SECRET = "protection-test-secret-0123456789abcdef";
export const keys = createProtectionKeys(SECRET);
export const SEND_TIMEOUT_MS = 2500;
export const NO_LIMITS: LimitSettings = {
  perNumber: undefined,
  perPrefix: undefined,
  perCountry: undefined,
  global: undefined,
  allowedCountries: undefined,
};

export type Outcome =
  | { kind: "sent"; id: string }
  | { kind: "destination_rejected" }
  | { kind: "provider_rejected" }
  | { kind: "unknown" };

/** A provider that counts what reaches it; `gate` holds every send in flight until it is opened. */
export class FakeProvider {
  readonly name = "fake";
  sends: string[] = [];
  outcomes: Outcome[] = [];
  private gate: ReturnType<typeof deferred<void>> | undefined;
  hold(): void {
    this.gate = deferred<void>();
  }
  release(): void {
    this.gate?.resolve();
    this.gate = undefined;
  }
  async send(to: string): Promise<Outcome> {
    this.sends.push(to);
    const n = this.sends.length;
    if (this.gate) await this.gate.promise;
    return this.outcomes.shift() ?? { kind: "sent", id: `SM${String(n).padStart(32, "0")}` };
  }
}

export type Answer = Outcome | { kind: "refused"; verdict: Exclude<LimitVerdict, { kind: "allowed" }> };

export function recordOf(answer: Answer): SendRecord {
  if (answer.kind === "sent") return { kind: "sent", provider: "fake", id: answer.id };
  if (answer.kind === "unknown") return { kind: "unknown", provider: "fake" };
  return { kind: "none" };
}

export interface Instance {
  store: ProtectionStore;
  dedupe: Dedupe;
  limits: Limits;
  /** One POST: dedupe, then limits, then the provider. */
  post(sms: Sms, options?: { lookup?: LookupFn; signal?: AbortSignal }): Promise<DedupeResult<Answer>>;
}

export type LookupFn = (earlier: { provider: string | undefined; since: number }) => Promise<LookupAnswer>;

export interface Sms {
  to: LimitedDestination;
  message: string;
}

/** A parsed destination; a US number unless told otherwise (`country` null: a number of no country). */
export function destination(e164: string, country: string | null = "US", callingCode = "1"): LimitedDestination {
  return { e164, country: country ?? undefined, callingCode };
}

export const OTP: Sms = { to: destination("+14155552671"), message: "Your Acme verification code is: 493817" };

export function instance(
  store: ProtectionStore,
  provider: FakeProvider,
  clock: FakeClock,
  options: { limits?: LimitSettings; dedupe?: Partial<DedupeOptions> } = {},
): Instance {
  const dedupe = createDedupe({
    store,
    keys,
    windowMs: 60_000,
    onUnknownRepeat: "send",
    now: clock.now,
    sleep: clock.sleep,
    ...options.dedupe,
  });
  const limits = createLimits({ store, keys, settings: options.limits ?? NO_LIMITS });
  return {
    store,
    dedupe,
    limits,
    post(sms, { lookup, signal } = {}) {
      return dedupe.run(
        { e164: sms.to.e164, message: sms.message, deadline: clock.now() + SEND_TIMEOUT_MS, lookup, signal },
        async (): Promise<Answer> => {
          const verdict = await limits.check(sms.to);
          if (verdict.kind !== "allowed") return { kind: "refused", verdict };
          return provider.send(sms.to.e164);
        },
        recordOf,
      );
    },
  };
}

/** The provider id an answer carries, whichever way it came (sent now, joined, deduplicated). */
export function idOf(result: DedupeResult<Answer>): string | undefined {
  if (result.kind === "duplicate") return result.id;
  if ((result.kind === "sent_now" || result.kind === "joined") && result.result.kind === "sent") return result.result.id;
  return undefined;
}
