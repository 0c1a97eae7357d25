import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { normalizeSharePath } from "../../../../shared/paths/normalize-share-path.ts";
import { isPlainChildPath } from "./is-plain-child-path.ts";

const join = (dir: string, name: string) => (dir === "" ? name : `${dir}/${name}`);

describe("isPlainChildPath", () => {
  test.each([
    ["", "notes.txt", true],
    ["docs", "a b.txt", true],
    ["", ".fleetsync", false],
    ["a", ".fleetsync.x.tmp", false],
    ["a", ".fleetsync-old", false],
    ["", "C:evil", false],
    ["docs", "C:fine", true],
    ["", "..", false],
    ["", "back\\slash", false],
    ["", "café", false],
    ["", "x".repeat(256), false],
    ["d".repeat(1400), "x", false],
  ])("in %j says %j is plain: %s", (dir, name, plain) => {
    expect(isPlainChildPath(dir, name)).toBe(plain);
  });

  test("says plain only where normalizeSharePath accepts the path unchanged", () => {
    const char = fc.constantFrom(
      "a",
      "Z",
      "0",
      ".",
      " ",
      "-",
      ":",
      "\\",
      "\0",
      "\n",
      "é",
      "e\u0301",
      "\ud800",
      "😀",
      "~",
    );
    const name = fc
      .array(char, { minLength: 1, maxLength: 12 })
      .map((cs) => cs.join(""))
      .filter((n) => n !== "" && !n.includes("/"));
    const prefix = fc.constantFrom("", ".fleetsync", "C:", "..", ".");
    // Directories are normalized share paths already (a long one near the length limit too).
    const dir = fc.constantFrom("", "a", "docs/2024", "é", Array(7).fill("x".repeat(194)).join("/"));
    fc.assert(
      fc.property(dir, prefix, name, (d, p, n) => {
        const path = join(d, p + n);
        if (!isPlainChildPath(d, p + n)) return;
        expect(normalizeSharePath(path), path).toEqual({ ok: true, path });
      }),
      { numRuns: 5000 },
    );
  });
});
