import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { isSameOrBelow } from "../../shared/paths/normalize-share-path.ts";
import { collapsePaths, scanRootFor } from "./scan-share.ts";

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

describe("scanRootFor", () => {
  test.each([
    ["", ""],
    ["a/b/c.txt", "a/b/c.txt"],
    ["ünïcödé/ok.txt", "ünïcödé/ok.txt"],
    ["dir/bad\\name.txt", "dir"],
    ["bad\\dir/child.txt", ""],
    ["dir/Cafe\u0301/x.txt", "dir"],
    ["a/../b", "a"],
  ])("starts the scan for %j at %j", (dirty, expected) => {
    expect(scanRootFor(dirty)).toBe(expected);
  });

  test("always yields a path the share accepts as it is, at or above the dirty path", () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 4 }),
        (segments) => {
          const dirty = segments.join("/");
          const start = scanRootFor(dirty);
          expect(start === "" || dirty === start || dirty.startsWith(`${start}/`)).toBe(true);
          expect(scanRootFor(start)).toBe(start);
        },
      ),
    );
  });
});
