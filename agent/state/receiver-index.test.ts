import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { blockSpans } from "../../shared/blocks/block-spans.ts";
import { forgetAtOrBelow, indexPaths, indexRecord, indexSize, localBlockFinder } from "./index-record.ts";
import { ReceiverIndex } from "./receiver-index.ts";
import type { IndexEntry } from "./share-state.ts";

// Few paths and few hashes, so that subtrees overlap and files share blocks.
const PATHS = ["a", "a/b", "a/b/c", "a/b/d", "a/bc", "ab", "b", "b/a", "b/a/x/y", "c.txt"];
const HASHES = ["1", "2", "3", "4", "5"].map((d) => d.repeat(64));
const FIXED = 4;

const fileArb: fc.Arbitrary<IndexEntry> = fc.oneof(
  fc.array(fc.constantFrom(...HASHES), { minLength: 0, maxLength: 4 }).chain((blocks) =>
    fc.record({
      type: fc.constant("file" as const),
      size: fc.integer({ min: Math.max(0, (blocks.length - 1) * FIXED + 1), max: blocks.length * FIXED }),
      mtimeMs: fc.nat(),
      ino: fc.nat(),
      mode: fc.constant(0o644),
      blockSize: fc.constant(FIXED),
      blocks: fc.constant(blocks),
      hash: fc.constant("f".repeat(64)),
    }),
  ),
  // content-defined chunks: offsets come from the lengths
  fc
    .array(fc.tuple(fc.constantFrom(...HASHES), fc.integer({ min: 1, max: 9 })), {
      minLength: 1,
      maxLength: 4,
    })
    .map(
      (chunks): IndexEntry => ({
        type: "file",
        size: chunks.reduce((sum, [, length]) => sum + length, 0),
        mtimeMs: 1,
        ino: 2,
        mode: 0o644,
        blockSize: 9,
        blocks: chunks.map(([hash]) => hash),
        blockLengths: chunks.map(([, length]) => length),
        hash: "e".repeat(64),
      }),
    ),
);
const dirEntry: IndexEntry = {
  type: "dir",
  size: 0,
  mtimeMs: 0,
  ino: 1,
  mode: 0o755,
  blockSize: FIXED,
  blocks: [],
  hash: "",
};
const entryArb = fc.oneof(fileArb, fc.constant(dirEntry));

type Step =
  | { op: "set"; path: string; entry: IndexEntry }
  | { op: "delete"; path: string }
  | { op: "forget"; path: string };
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ op: fc.constant("set" as const), path: fc.constantFrom(...PATHS), entry: entryArb }),
  fc.record({ op: fc.constant("delete" as const), path: fc.constantFrom(...PATHS) }),
  fc.record({ op: fc.constant("forget" as const), path: fc.constantFrom(...PATHS, "") }),
);

/** The old answers: a walk of every key of a plain record (what the apply side did on every instruction). */
const walkBelow = (plain: Record<string, IndexEntry>, path: string) =>
  Object.keys(plain).filter((key) => path === "" || key === path || key.startsWith(`${path}/`));

function apply(record: Record<string, IndexEntry>, step: Step): void {
  if (step.op === "set") record[step.path] = step.entry;
  else if (step.op === "delete") delete record[step.path];
  else forgetAtOrBelow(record, step.path);
}

describe("ReceiverIndex", () => {
  test("answers what a walk of the whole index answers: entries at or below a path, and where each block is held", () => {
    fc.assert(
      fc.property(fc.array(stepArb, { maxLength: 40 }), (steps) => {
        const plain: Record<string, IndexEntry> = Object.create(null);
        const index = new ReceiverIndex();
        const record = indexRecord(index);
        for (const step of steps) {
          apply(plain, step);
          apply(record, step);
          expect(new Set(index.keys())).toEqual(new Set(Object.keys(plain)));
          expect(indexSize(record)).toBe(Object.keys(plain).length);
          for (const path of [...PATHS, "", "a/b/c/d", "zz"]) {
            expect(new Set(index.pathsAtOrBelow(path))).toEqual(new Set(walkBelow(plain, path)));
          }
          // The old walk (localBlockFinder over a plain record) and the maintained lookup agree on what is held
          // locally; where they name different files, both name a real span of the block.
          const walked = localBlockFinder(plain);
          const kept = localBlockFinder(record);
          for (const hash of [...HASHES, "9".repeat(64)]) {
            const old = walked(hash);
            const now = kept(hash);
            expect(now === undefined).toBe(old === undefined);
            if (!now) continue;
            const holder = plain[now.path];
            expect(holder?.type).toBe("file");
            expect(blockSpans(holder!)).toContainEqual({ hash, offset: now.offset, length: now.length });
            // the first span of that hash in its file, as the walk takes it
            expect(blockSpans(holder!).find((span) => span.hash === hash)?.offset).toBe(now.offset);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  test("forgetting a directory removes it and everything below it, and nothing beside it that shares its prefix", () => {
    const index = ReceiverIndex.fromEntries(
      ["a", "a/b", "a/b/c", "a/bc", "ab", "b/a/x/y"].map((path) => [path, dirEntry]),
    );
    const record = indexRecord(index);
    forgetAtOrBelow(record, "a/b");
    expect(indexPaths(record).sort()).toEqual(["a", "a/bc", "ab", "b/a/x/y"]);
    // an entry whose parents have no entries of their own is still found below them
    expect(index.pathsAtOrBelow("b")).toEqual(["b/a/x/y"]);
    forgetAtOrBelow(record, "b");
    expect(indexPaths(record).sort()).toEqual(["a", "a/bc", "ab"]);
    forgetAtOrBelow(record, "");
    expect(indexSize(record)).toBe(0);
  });

  test("a block stays findable while any file still holds it, and is gone once none does", () => {
    const [h1, h2] = HASHES as [string, string];
    const file = (blocks: string[]): IndexEntry => ({
      type: "file",
      size: blocks.length * FIXED,
      mtimeMs: 0,
      ino: 0,
      mode: 0o644,
      blockSize: FIXED,
      blocks,
      hash: "f".repeat(64),
    });
    const index = new ReceiverIndex();
    index.set("x", file([h2, h1]));
    index.set("y", file([h1]));
    expect(index.blockLocation(h1)).toEqual({ path: "x", offset: FIXED, length: FIXED });
    index.set("x", file([h2])); // x no longer holds h1: y does
    expect(index.blockLocation(h1)).toEqual({ path: "y", offset: 0, length: FIXED });
    index.delete("y");
    expect(index.blockLocation(h1)).toBeUndefined();
    expect(index.blockLocation(h2)).toEqual({ path: "x", offset: 0, length: FIXED });
  });
});
