import { describe, expect, test } from "vitest";
import { CompactIndex } from "./compact-index.ts";
import type { IndexEntry } from "./index-entry.ts";
import { compactIndexBehind, indexPaths, indexRecord, indexSize } from "./index-record.ts";

describe("indexRecord", () => {
  test("reads and writes like a plain record: index[path], delete, in, Object.keys and Object.entries", () => {
    const record = indexRecord(new CompactIndex());
    const dir: IndexEntry = {
      type: "dir",
      size: 0,
      mtimeMs: 0,
      ino: 7,
      mode: 0o755,
      blockSize: 131072,
      blocks: [],
      hash: "",
    };
    record.a = dir;
    record["a/b"] = { ...dir, ino: 8 };
    expect(record.a).toEqual(dir);
    expect("a" in record).toBe(true);
    expect(Object.keys(record)).toEqual(["a", "a/b"]);
    expect(Object.entries(record).map(([p, e]) => [p, e.ino])).toEqual([
      ["a", 7],
      ["a/b", 8],
    ]);
    delete record.a;
    expect(record.a).toBeUndefined();
    expect("a" in record).toBe(false);
    expect(indexPaths(record)).toEqual(["a/b"]);
    expect(indexSize(record)).toBe(1);
    expect(compactIndexBehind(record)?.size).toBe(1);
    expect(compactIndexBehind({})).toBeUndefined();
  });
});
