import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { CHANGED, CompactIndex, IN_OVERLAY, type PackedIndex, PackedIndexSchema } from "./compact-index.ts";
import type { IndexEntry } from "./share-state.ts";

const hex64 = fc.stringMatching(/^[0-9a-f]{64}$/);
const entryArb: fc.Arbitrary<IndexEntry> = fc.oneof(
  fc.record({
    type: fc.constant("file" as const),
    size: fc.nat(),
    mtimeMs: fc.nat(),
    ino: fc.nat({ max: 2 ** 53 - 1 }),
    mode: fc.nat({ max: 0o7777 }),
    blockSize: fc.constantFrom(131072, 1048576),
    blocks: fc.array(hex64, { maxLength: 3 }),
    hash: hex64,
    seq: fc.option(fc.nat(), { nil: undefined }),
  }),
  fc.record({
    type: fc.constant("dir" as const),
    size: fc.constant(0),
    mtimeMs: fc.constant(0),
    ino: fc.nat(),
    mode: fc.nat({ max: 0o7777 }),
    blockSize: fc.constant(131072),
    blocks: fc.constant([] as string[]),
    hash: fc.constant(""),
  }),
  fc.record({
    type: fc.constant("symlink" as const),
    size: fc.constant(0),
    mtimeMs: fc.constant(0),
    ino: fc.nat(),
    mode: fc.constant(0),
    blockSize: fc.constant(131072),
    blocks: fc.constant([] as string[]),
    hash: fc.constant(""),
    target: fc.string(),
  }),
  // A content-defined file (chunk lengths): beside the columns, as it is.
  fc.record({
    type: fc.constant("file" as const),
    size: fc.nat(),
    mtimeMs: fc.nat(),
    ino: fc.nat(),
    mode: fc.nat({ max: 0o7777 }),
    blockSize: fc.constant(262144),
    blocks: fc.array(hex64, { minLength: 1, maxLength: 3 }),
    blockLengths: fc.array(fc.integer({ min: 1, max: 262144 }), { minLength: 1, maxLength: 3 }),
    hash: hex64,
    seq: fc.option(fc.nat(), { nil: undefined }),
  }),
  // Shapes the columns do not hold: kept as they are.
  fc.record({
    type: fc.constant("file" as const),
    size: fc.nat(),
    mtimeMs: fc.nat(),
    ino: fc.nat(),
    mode: fc.nat(),
    blockSize: fc.constant(131072),
    blocks: fc.array(fc.string(), { maxLength: 2 }),
    hash: fc.string(),
  }),
);
/** What a JSON round trip of an entry gives (an `undefined` seq is dropped). */
const plain = (entry: IndexEntry) => JSON.parse(JSON.stringify(entry)) as IndexEntry;
const pathArb = fc.constantFrom("a", "b", "a/b", "a/b/c", "é", "x y", "d/f.bin", "__proto__");
const opArb = fc.oneof(
  fc.tuple(fc.constant("set" as const), pathArb, entryArb),
  fc.tuple(fc.constant("delete" as const), pathArb, fc.constant(undefined)),
  fc.tuple(fc.constant("pack" as const), fc.constant(""), fc.constant(undefined)),
);

describe("CompactIndex", () => {
  test("holds exactly what a Map would, through sets, deletes, packs and a trip through the state file", () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 40 }), (ops) => {
        let index = new CompactIndex();
        const model = new Map<string, IndexEntry>();
        for (const [op, path, entry] of ops) {
          if (op === "set") {
            index.set(path, entry!);
            model.set(path, entry!);
          } else if (op === "delete") {
            expect(index.delete(path)).toBe(model.delete(path));
          } else {
            const stored = JSON.parse(JSON.stringify(index.pack())) as unknown;
            index = CompactIndex.fromPacked(PackedIndexSchema.parse(stored));
          }
          expect(index.size).toBe(model.size);
        }
        expect(new Set(index.keys())).toEqual(new Set(model.keys()));
        for (const [path, entry] of model) {
          expect(index.has(path)).toBe(true);
          expect(plain(index.get(path)!)).toEqual(plain(entry));
        }
        for (const path of ["a", "b", "a/b", "zz"])
          if (!model.has(path)) expect(index.get(path)).toBeUndefined();
      }),
    );
  });

  test("after a pack, unchanged entries live in the columns and only changed ones are objects", () => {
    const entry = (i: number): IndexEntry => ({
      type: "file",
      size: i,
      mtimeMs: 1_700_000_000_000 + i,
      ino: 1000 + i,
      mode: 0o644,
      blockSize: 131072,
      blocks: [i.toString(16).padStart(64, "0")],
      hash: (i + 1).toString(16).padStart(64, "0"),
      seq: i,
    });
    const index = CompactIndex.fromEntries(Array.from({ length: 1000 }, (_, i) => [`f${i}`, entry(i)]));
    expect(index.overlaySize).toBe(0);
    index.set("f3", { ...entry(3), size: 99 });
    index.delete("f4");
    index.set("new", entry(5000));
    expect(index.overlaySize).toBe(3);
    expect(index.get("f3")?.size).toBe(99);
    expect(index.get("f10")).toEqual(entry(10));
    const row = (path: string, size: number, mtimeMs: number, ino: number, mode = 0o644) =>
      index.unchangedRow(path, "file", size, mtimeMs, ino, mode);
    expect(row("f10", 10, 1_700_000_000_010, 1010)).toBe(10);
    expect(row("f10", 10, 1_700_000_000_011, 1010)).toBe(CHANGED);
    expect(row("f10", 11, 1_700_000_000_010, 1010)).toBe(CHANGED);
    expect(row("f10", 10, 1_700_000_000_010, 1011)).toBe(CHANGED);
    expect(row("f10", 10, 1_700_000_000_010, 1010, 0o600)).toBe(CHANGED);
    expect(index.unchangedRow("f10", "dir", 10, 1_700_000_000_010, 1010, 0o644)).toBe(CHANGED);
    expect(row("f4", 4, 1_700_000_000_004, 1004)).toBe(CHANGED);
    expect(row("f3", 3, 1_700_000_000_003, 1003)).toBe(CHANGED);
    expect(row("f3", 99, 1_700_000_000_003, 1003)).toBe(IN_OVERLAY);
    expect(row("new", 5000, 1_700_000_005_000, 6000)).toBe(IN_OVERLAY);
    // Left over after a scan that saw every packed row but f10: f10 and the entry that has no row.
    const marks = index.markRows();
    marks.rows.fill(1);
    marks.rows[10] = 0;
    expect(index.pathsExceptMarked(marks).sort()).toEqual(["f10", "new"]);
    // The rows of a changed entry (f3) and of a deleted one (f4) not seen: the changed one is left, not the deleted.
    marks.rows[3] = 0;
    marks.rows[4] = 0;
    expect(index.pathsExceptMarked(marks).sort()).toEqual(["f10", "f3", "new"]);
    // A save re-packs the index (f4's row goes, rows renumber): the marks follow their paths.
    marks.rows.fill(0);
    marks.rows[999] = 1;
    marks.rows[5] = 1;
    index.pack();
    expect(index.unchangedRow("f999", "file", 999, 1_700_000_000_999, 1999, 0o644)).toBe(998);
    expect(marks.rows[998]).toBe(1);
    expect(marks.rows[4]).toBe(1);
    expect(index.pathsExceptMarked(marks)).not.toContain("f999");
    expect(index.pathsExceptMarked(marks)).not.toContain("f5");
    expect(index.pathsExceptMarked(marks)).toContain("f6");
    index.releaseRows(marks);
    index.pack();
    expect(index.overlaySize).toBe(0);
    expect(index.size).toBe(1000);
  });

  test("a packed index whose columns disagree is refused with what is wrong", () => {
    const packed = CompactIndex.fromEntries([
      [
        "a",
        { type: "dir", size: 0, mtimeMs: 0, ino: 1, mode: 0o755, blockSize: 131072, blocks: [], hash: "" },
      ],
    ]).pack();
    const broken: PackedIndex = { ...packed, kinds: "ff" };
    expect(() => CompactIndex.fromPacked(broken)).toThrow(/columns differ in length/);
    expect(() => CompactIndex.fromPacked({ ...packed, kinds: "f" })).toThrow(/hash bytes for 1 files/);
  });
});
