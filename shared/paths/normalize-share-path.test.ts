import fc from "fast-check";
import { describe, expect, test } from "vitest";
import {
  isSameOrBelow,
  MAX_PATH_BYTES,
  MAX_SEGMENT_BYTES,
  normalizeSharePath,
  parentOf,
} from "./normalize-share-path.ts";

const bytes = (text: string) => new TextEncoder().encode(text).length;

function accepted(input: string): string {
  const check = normalizeSharePath(input);
  if (!check.ok) throw new Error(`expected ${JSON.stringify(input)} to be accepted: ${check.reason}`);
  return check.path;
}

/** Segments built from characters that stress the checks: dots, slashes' neighbours, Unicode, combining marks. */
const segmentArb = fc
  .array(
    fc.oneof(
      fc.constantFrom(
        ".",
        "..",
        "a",
        "Z",
        " ",
        "-",
        "~",
        ":",
        "é",
        "e\u0301",
        "ß",
        "日本",
        "😀",
        "\u00a0",
        "\u200b",
        "\uD83D",
        "\uDE00",
        "\0",
        "\\",
        "C:",
      ),
      fc.string({ unit: "grapheme", minLength: 1, maxLength: 4 }),
    ),
    { minLength: 1, maxLength: 4 },
  )
  .map((parts) => parts.join(""));
const pathArb = fc.array(segmentArb, { minLength: 1, maxLength: 5 }).map((segments) => segments.join("/"));
/** Anything at all, including lone surrogates, NUL, backslashes and separators in odd places. */
const anyStringArb = fc.oneof(pathArb, fc.string({ unit: "binary", maxLength: 40 }));

describe("normalizeSharePath", () => {
  test.each([
    ["../x", '".." segment'],
    ["a/../b", '".." segment'],
    ["a/..", '".." segment'],
    ["/etc/passwd", "absolute"],
    ["C:\\x", "backslash"],
    ["C:x", "drive letter"],
    ["c:/x", "drive letter"],
    ["a:b", "drive letter"],
    ["a//b", "empty segment"],
    ["a/", "empty segment"],
    ["a/./b", '"." segment'],
    [".", '"." segment'],
    ["a\\b", "backslash"],
    ["a\0b", "NUL"],
    ["", "empty"],
    [".fleetsync/x", "is reserved for fleetsync's own files"],
    [".fleetsync", "is reserved for fleetsync's own files"],
    ["x/.fleetsync/y", 'segment ".fleetsync" is reserved'],
    ["etc/.fleetsync.3f9a1c.tmp", 'segment ".fleetsync.3f9a1c.tmp" is reserved'],
    [".fleetsync-not-ours/x", 'segment ".fleetsync-not-ours" is reserved'],
    ["a/b/.fleetsyncX", "is reserved for fleetsync's own files"],
    [`${"a".repeat(200)}/${"b".repeat(200)}/${"c".repeat(4097 - 402)}`, "longer than 4096 bytes"],
    ["x".repeat(256), "segment is longer than 255 bytes"],
    ["a\uD800b", "not well-formed Unicode"],
    ["\uDC00", "not well-formed Unicode"],
  ])("refuses %j (%s)", (input, reason) => {
    const check = normalizeSharePath(input);
    expect(check.ok).toBe(false);
    if (!check.ok) expect(check.reason).toContain(reason);
  });

  test("refuses a path of 4097 bytes and accepts one of exactly 4096", () => {
    const segment = "s".repeat(255);
    const base = Array.from({ length: 16 }, () => segment).join("/"); // 16*255 + 15 = 4095 bytes
    expect(bytes(`${base}x`)).toBe(MAX_PATH_BYTES);
    expect(normalizeSharePath(`${base}x`).ok).toBe(false); // last segment is now 256 bytes
    const exact = `${base.slice(0, -1)}/x`; // 4095 - 1 + 2 = 4096
    expect(bytes(exact)).toBe(MAX_PATH_BYTES);
    expect(accepted(exact)).toBe(exact);
    const over = `${exact}y`;
    expect(bytes(over)).toBe(MAX_PATH_BYTES + 1);
    expect(normalizeSharePath(over)).toEqual({ ok: false, reason: "path is longer than 4096 bytes" });
  });

  test("counts segment length in UTF-8 bytes, not characters", () => {
    const fits = "é".repeat(127); // 254 bytes
    expect(accepted(fits)).toBe(fits);
    expect(normalizeSharePath(`${fits}é`).ok).toBe(false); // 256 bytes in 128 characters
    expect(bytes("x".repeat(MAX_SEGMENT_BYTES))).toBe(255);
    expect(accepted("x".repeat(MAX_SEGMENT_BYTES))).toHaveLength(255);
  });

  test.each([
    ["notes.txt"],
    ["a/b/c.txt"],
    ["with space/and more spaces .txt"],
    ["日本語/ファイル.md"],
    ["emoji 😀/ok"],
    [".hidden/.file"],
    ["..x/x.."],
    ["ab:c"],
    ["x/a:b"],
    ["fleetsync/.x"],
    ["x/a.fleetsync"],
    ["x/.fleetsyn"],
  ])("accepts %j unchanged", (input) => {
    expect(accepted(input)).toBe(input);
  });

  test("turns decomposed (NFD) input into its NFC form", () => {
    const nfd = "Cafe\u0301/re\u0301sume\u0301.txt";
    expect(accepted(nfd)).toBe("Café/résumé.txt");
    expect(accepted(nfd)).not.toBe(nfd);
    expect(accepted("Café/résumé.txt")).toBe("Café/résumé.txt");
  });

  test("is idempotent: normalizing an accepted path gives the path itself", () => {
    fc.assert(
      fc.property(anyStringArb, (input) => {
        const first = normalizeSharePath(input);
        if (!first.ok) return;
        expect(normalizeSharePath(first.path)).toEqual({ ok: true, path: first.path });
      }),
      { numRuns: 2000 },
    );
  });

  test("never yields a climbing, dot, empty or absolute segment, a backslash, a NUL or a non-NFC form", () => {
    fc.assert(
      fc.property(anyStringArb, (input) => {
        const check = normalizeSharePath(input);
        if (!check.ok) return;
        const { path } = check;
        expect(path.length).toBeGreaterThan(0);
        expect(path.startsWith("/")).toBe(false);
        expect(path).not.toMatch(/[\\\0]/);
        expect(path).not.toMatch(/^[A-Za-z]:/);
        expect(path.normalize("NFC")).toBe(path);
        expect(bytes(path)).toBeLessThanOrEqual(MAX_PATH_BYTES);
        for (const segment of path.split("/")) {
          expect(["", ".", ".."]).not.toContain(segment);
          expect(bytes(segment)).toBeLessThanOrEqual(MAX_SEGMENT_BYTES);
        }
        for (const segment of path.split("/")) expect(segment.startsWith(".fleetsync")).toBe(false);
        // Survives the UTF-8 round trip a file name makes through the disk and the wire.
        expect(new TextDecoder().decode(new TextEncoder().encode(path))).toBe(path);
      }),
      { numRuns: 2000 },
    );
  });

  test("accepts every path made of ordinary segments, changing it only by NFC", () => {
    const plainSegment = fc
      .string({ unit: "grapheme", minLength: 1, maxLength: 12 })
      .filter((s) => !/[/\\\0]/.test(s) && s !== "." && s !== ".." && !s.startsWith(".fleetsync"));
    fc.assert(
      fc.property(
        fc.array(plainSegment, { minLength: 1, maxLength: 6 }).map((s) => s.join("/")),
        (input) => {
          fc.pre(!/^[A-Za-z]:/.test(input));
          expect(normalizeSharePath(input)).toEqual({ ok: true, path: input.normalize("NFC") });
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe("isSameOrBelow", () => {
  test.each([
    ["a", "a", true],
    ["a/b", "a", true],
    ["a/b/c", "a/b", true],
    ["anything/at/all", "", true],
    ["ab", "a", false],
    ["a-b/c", "a", false],
    ["a", "a/b", false],
    ["b/a", "a", false],
  ])("isSameOrBelow(%j, %j) is %s", (path, ancestor, expected) => {
    expect(isSameOrBelow(path, ancestor)).toBe(expected);
  });
});

describe("parentOf", () => {
  test.each([
    ["a", ""],
    ["a/b", "a"],
    ["a/b/c.txt", "a/b"],
  ])("gives the parent of %j as %j", (path, parent) => {
    expect(parentOf(path)).toBe(parent);
  });

  test("gives a parent that contains the path, one segment shorter", () => {
    fc.assert(
      fc.property(pathArb, (input) => {
        const check = normalizeSharePath(input);
        fc.pre(check.ok);
        if (!check.ok) return;
        const parent = parentOf(check.path);
        expect(isSameOrBelow(check.path, parent)).toBe(true);
        expect(parent === "" ? 0 : parent.split("/").length).toBe(check.path.split("/").length - 1);
      }),
    );
  });
});
