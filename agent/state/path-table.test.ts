import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { PathTable } from "./path-table.ts";

describe("PathTable", () => {
  test("finds every row by path and by directory and name, and nothing else", () => {
    const segment = fc.constantFrom("a", "b", "ab", "a.b", "é", "日本", "x y", "😀", "f0.txt");
    const path = fc.array(segment, { minLength: 1, maxLength: 4 }).map((s) => s.join("/"));
    fc.assert(
      fc.property(
        fc.uniqueArray(path, { maxLength: 40 }),
        fc.array(path, { maxLength: 10 }),
        (paths, others) => {
          const table = new PathTable(paths.join("\0"));
          expect(table.size).toBe(paths.length);
          paths.forEach((p, row) => {
            expect(table.pathOf(row)).toBe(p);
            expect(table.rowOf(p)).toBe(row);
            const slash = p.lastIndexOf("/");
            const dir = slash < 0 ? "" : p.slice(0, slash);
            expect(table.childRows(dir)(p.slice(slash + 1))).toBe(row);
          });
          for (const p of others) {
            const expected = paths.indexOf(p);
            expect(table.rowOf(p)).toBe(expected);
            const slash = p.lastIndexOf("/");
            expect(table.childRows(slash < 0 ? "" : p.slice(0, slash))(p.slice(slash + 1))).toBe(expected);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  test("tells a directory's child from a look-alike path of the same length", () => {
    const table = new PathTable(["ab/c", "a/bc", "abc", "a"].join("\0"));
    expect(table.childRows("a")("bc")).toBe(1);
    expect(table.childRows("ab")("c")).toBe(0);
    expect(table.childRows("")("abc")).toBe(2);
    expect(table.childRows("")("a")).toBe(3);
    expect(table.childRows("a")("b")).toBe(-1);
    expect(table.childRows("")("ab")).toBe(-1);
  });

  test("holds nothing when empty and refuses a path held twice", () => {
    expect(new PathTable("").size).toBe(0);
    expect(new PathTable("").rowOf("")).toBe(-1);
    expect(new PathTable("").childRows("")("a")).toBe(-1);
    expect(() => new PathTable("a\0b/c\0a")).toThrow("the packed index holds a twice");
  });
});
