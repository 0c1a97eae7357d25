import { describe, expect, test } from "vitest";
import type { SequencedEntry } from "../../shared/protocol/entry.ts";
import type { OperationResult } from "../../shared/protocol/messages.ts";
import { type DeferredOps, deferredOps, recordDeferred, settleReported } from "./deferred-ops.ts";

const op = (path: string, seq: number): SequencedEntry => ({
  path,
  seq,
  type: "deleted",
  size: 0,
  mtimeMs: 0,
  mode: 0,
  blockSize: 0,
  blocks: [],
  hash: "",
});
const result = (o: SequencedEntry, action: string, ok = true): OperationResult => ({
  seq: o.seq,
  path: o.path,
  action,
  ok,
  bytes: 0,
});

describe("deferred operations", () => {
  test("a deferred operation is kept until a newer one for its path applies, or the path is reported", () => {
    const deferred: DeferredOps = {};
    const a3 = op("a", 3);
    const b4 = op("b", 4);
    recordDeferred(deferred, [a3, b4], [result(a3, "defer"), result(b4, "defer")]);
    expect(deferredOps(deferred).map((o) => o.seq)).toEqual([3, 4]);
    // A failed attempt at a newer op forgets nothing; an applied one does.
    const a5 = op("a", 5);
    recordDeferred(deferred, [a5], [result(a5, "write", false)]);
    expect(Object.keys(deferred).sort()).toEqual(["a", "b"]);
    recordDeferred(deferred, [a5], [result(a5, "create")]);
    expect(Object.keys(deferred)).toEqual(["b"]);
    // A result for an older seq does not replace or drop a newer deferral.
    const b2 = op("b", 2);
    recordDeferred(deferred, [b2], [result(b2, "create")]);
    expect(deferred.b?.seq).toBe(4);
    settleReported(deferred, ["b"]);
    expect(deferred).toEqual({});
  });

  test("a deferral of a newer op replaces the older one for the same path", () => {
    const deferred: DeferredOps = {};
    const a1 = op("a", 1);
    const a7 = op("a", 7);
    recordDeferred(deferred, [a1], [result(a1, "defer")]);
    recordDeferred(deferred, [a7], [result(a7, "defer")]);
    expect(deferredOps(deferred)).toEqual([a7]);
  });
});
