import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { isSameOrBelow } from "../../shared/paths/normalize-share-path.ts";
import { collapsePaths } from "./scan-share.ts";

describe("collapsePaths", () => {
  test.each([
    [[], []],
    [["a"], ["a"]],
    [["a/b", "a"], ["a"]],
    [
      ["a", "a/b", "a/b/c", "b"],
      ["a", "b"],
    ],
    [
      ["a/b", "a/c", "a/b"],
      ["a/b", "a/c"],
    ],
    [
      ["ab", "a", "a-b/c", "a/c"],
      ["a", "a-b/c", "ab"],
    ],
    [["x/y", "", "z"], [""]],
  ])("collapses %j to %j", (paths, expected) => {
    expect(collapsePaths(paths)).toEqual(expected);
  });

  test("keeps only input paths, none below another, covering every input", () => {
    const segment = fc.constantFrom("a", "b", "a-b", "a.b", "ab", "é");
    const pathArb = fc.oneof(
      fc.array(segment, { minLength: 1, maxLength: 4 }).map((s) => s.join("/")),
      fc.constant(""),
    );
    fc.assert(
      fc.property(fc.array(pathArb, { maxLength: 12 }), (paths) => {
        const kept = collapsePaths(paths);
        for (const k of kept) expect(paths).toContain(k);
        for (const a of kept) for (const b of kept) if (a !== b) expect(isSameOrBelow(a, b)).toBe(false);
        for (const p of paths) expect(kept.some((k) => isSameOrBelow(p, k))).toBe(true);
        expect(new Set(kept).size).toBe(kept.length);
      }),
      { numRuns: 1000 },
    );
  });
});
