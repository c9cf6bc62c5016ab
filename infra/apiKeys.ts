// Rotating the gateway's API key without a gap. Two generated keys live side by side, one per parity of
// `apiKeyGeneration`: raising the generation regenerates only the slot of the new parity, so the key of the
// previous generation still exists in the other slot. The gateway accepts both (GATEWAY_API_KEY is a
// comma-separated list) while Cloud Run rolls the new revision out and until Mosaic has been given the new key
// (one PUT); `apiKeyRetiredGeneration` then drops the old one. Pure: infra/test/apiKeys.test.ts pins it, and
// infra/test/rotation.test.ts plays the whole switch through the program's real dependency graph.

import type { ApiKeyConfig } from "./config.js";

export type KeySlot = "odd" | "even";

const parityOf = (generation: number): KeySlot => (generation % 2 === 1 ? "odd" : "even");

/** The generation a slot's key was last made for, at `generation`: the latest one of its parity, or undefined
 * while none has been (the even slot before generation 2). */
export function slotGeneration(slot: KeySlot, generation: number): number | undefined {
  const latest = parityOf(generation) === slot ? generation : generation - 1;
  return latest >= 1 ? latest : undefined;
}

export interface KeyPlan {
  /** The slot holding the key Mosaic is given. */
  current: KeySlot;
  /** The slot holding the previous generation's key while the gateway still accepts it. */
  previous: KeySlot | undefined;
}

export function keyPlan({ generation, retiredGeneration }: ApiKeyConfig): KeyPlan {
  const previousGeneration = generation - 1;
  const stillAccepted = previousGeneration >= 1 && previousGeneration > retiredGeneration;
  return { current: parityOf(generation), previous: stillAccepted ? parityOf(previousGeneration) : undefined };
}

/** GATEWAY_API_KEY's value: the current key first, then the previous one while it is accepted. */
export function acceptedKeys(current: string, previous: string | undefined): string {
  for (const key of [current, previous]) {
    if (key !== undefined && /[,\s]/.test(key)) throw new Error("an API key cannot contain a comma or whitespace");
  }
  return previous === undefined ? current : `${current},${previous}`;
}
