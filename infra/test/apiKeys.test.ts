// The two-slot key plan: which slot holds the current key, when the previous one is still accepted, and that
// raising the generation regenerates only one slot.

import { describe, expect, test } from "vitest";
import { acceptedKeys, keyPlan, slotGeneration } from "../apiKeys.js";

describe("slotGeneration", () => {
  test.each([
    // generation, odd slot, even slot
    [1, 1, undefined],
    [2, 1, 2],
    [3, 3, 2],
    [4, 3, 4],
    [9, 9, 8],
  ])("at generation %i the odd slot holds %s and the even slot %s", (generation, odd, even) => {
    expect(slotGeneration("odd", generation)).toBe(odd);
    expect(slotGeneration("even", generation)).toBe(even);
  });

  test("raising the generation by one regenerates exactly one slot, the other keeps the previous key", () => {
    for (let g = 1; g < 20; g++) {
      const changed = (["odd", "even"] as const).filter((slot) => slotGeneration(slot, g) !== slotGeneration(slot, g + 1));
      expect(changed).toHaveLength(1);
      expect(slotGeneration(changed[0]!, g + 1)).toBe(g + 1);
    }
  });
});

describe("keyPlan", () => {
  test.each([
    [{ generation: 1, retiredGeneration: 0 }, { current: "odd", previous: undefined }],
    [{ generation: 2, retiredGeneration: 0 }, { current: "even", previous: "odd" }],
    [{ generation: 2, retiredGeneration: 1 }, { current: "even", previous: undefined }],
    [{ generation: 3, retiredGeneration: 1 }, { current: "odd", previous: "even" }],
    [{ generation: 3, retiredGeneration: 2 }, { current: "odd", previous: undefined }],
    // Retiring an older generation than the previous one still keeps the previous one: raising the generation
    // can never drop the key Mosaic holds before it has been given the new one.
    [{ generation: 5, retiredGeneration: 1 }, { current: "odd", previous: "even" }],
  ])("%o plans %o", (config, plan) => {
    expect(keyPlan(config)).toEqual(plan);
  });
});

describe("acceptedKeys", () => {
  test.each([
    ["new-key-aaaaaaaaaaaaaaaa", undefined, "new-key-aaaaaaaaaaaaaaaa"],
    ["new-key-aaaaaaaaaaaaaaaa", "old-key-bbbbbbbbbbbbbbbb", "new-key-aaaaaaaaaaaaaaaa,old-key-bbbbbbbbbbbbbbbb"],
  ])("%s and %s make %s", (current, previous, expected) => {
    expect(acceptedKeys(current, previous)).toBe(expected);
  });

  test.each([["a,b"], ["a b"], ["a\tb"]])("a key holding %j is refused (it would split the list)", (bad) => {
    expect(() => acceptedKeys(bad, undefined)).toThrow("cannot contain a comma or whitespace");
    expect(() => acceptedKeys("good-key", bad)).toThrow("cannot contain a comma or whitespace");
  });
});
