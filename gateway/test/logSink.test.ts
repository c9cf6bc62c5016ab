import { setImmediate as nextTurn } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { createBatchingSink } from "../src/logSink.ts";

describe("createBatchingSink", () => {
  it("writes the lines of one turn in one call, in order", async () => {
    const writes: string[] = [];
    const sink = createBatchingSink((chunk) => writes.push(chunk));
    sink.write("a\n");
    sink.write("b\n");
    sink.write("c\n");
    expect(writes).toEqual([]);
    await nextTurn();
    expect(writes).toEqual(["a\nb\nc\n"]);
  });

  it("starts a new batch on the next turn", async () => {
    const writes: string[] = [];
    const sink = createBatchingSink((chunk) => writes.push(chunk));
    sink.write("1\n");
    await nextTurn();
    sink.write("2\n");
    await nextTurn();
    expect(writes).toEqual(["1\n", "2\n"]);
  });

  it("flush writes what is pending at once, and nothing twice", async () => {
    const writes: string[] = [];
    const sink = createBatchingSink((chunk) => writes.push(chunk));
    sink.write("last words\n");
    sink.flush();
    expect(writes).toEqual(["last words\n"]);
    await nextTurn();
    sink.flush();
    expect(writes).toEqual(["last words\n"]);
  });
});
