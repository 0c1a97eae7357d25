import { describe, expect, test } from "vitest";
import { MAX_BLOCK_BYTES, MIN_BLOCK_BYTES } from "../blocks/block-size.ts";
import { type Entry, EntrySchema, HashSchema, isSameEntry, SequencedEntrySchema } from "./entry.ts";

const HASH_A = "a".repeat(64);
const HASH_B = "b".repeat(64);

const file: Entry = {
  path: "docs/readme.md",
  type: "file",
  size: 3,
  mode: 0o644,
  mtimeMs: 1_700_000_000_000,
  blockSize: MIN_BLOCK_BYTES,
  blocks: [HASH_A],
  hash: HASH_B,
};

function issueMessages(input: unknown): string[] {
  const parsed = EntrySchema.safeParse(input);
  expect(parsed.success).toBe(false);
  return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
}

describe("EntrySchema", () => {
  test("fills in defaults for a bare directory entry", () => {
    expect(EntrySchema.parse({ path: "photos", type: "dir" })).toEqual({
      path: "photos",
      type: "dir",
      size: 0,
      mode: 0,
      mtimeMs: 0,
      blockSize: MIN_BLOCK_BYTES,
      blocks: [],
      hash: "",
    });
  });

  test("normalizes the path to NFC while parsing", () => {
    expect(EntrySchema.parse({ ...file, path: "Cafe\u0301.txt" }).path).toBe("Café.txt");
  });

  test.each([
    ["../etc/passwd", '".." segment'],
    ["/etc/passwd", "absolute"],
    ["a//b", "empty segment"],
    [".fleetsync/trash/x", "reserved"],
  ])("refuses the path %j with a message naming the path and the field", (path, reason) => {
    const messages = issueMessages({ ...file, path });
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(/^path: /);
    expect(messages[0]).toContain(reason);
    expect(messages[0]).toContain(JSON.stringify(path));
  });

  test("quotes at most 200 characters of a very long refused path", () => {
    const path = `../${"x".repeat(5000)}`;
    const [message] = issueMessages({ ...file, path });
    expect(message).toContain(JSON.stringify(path.slice(0, 200)));
    expect(message!.length).toBeLessThan(300);
  });

  test.each([
    ["type", { type: "fifo" }],
    ["size", { size: -1 }],
    ["size", { size: 1.5 }],
    ["mode", { mode: 0o10000 }],
    ["blockSize", { blockSize: MIN_BLOCK_BYTES - 1 }],
    ["blockSize", { blockSize: MAX_BLOCK_BYTES * 2 }],
    ["blocks.0", { blocks: ["A".repeat(64)] }],
    ["blocks.0", { blocks: ["a".repeat(63)] }],
    ["target", { target: "a\0b" }],
    ["hash", { hash: "h".repeat(65) }],
    ["", { extra: true }],
  ])("refuses a bad %s", (field, patch) => {
    const parsed = EntrySchema.safeParse({ ...file, ...patch });
    expect(parsed.success).toBe(false);
    if (!parsed.success) expect(parsed.error.issues[0]?.path.join(".")).toBe(field);
  });

  test("keeps symlink targets verbatim, even ones pointing out of the share", () => {
    const link = EntrySchema.parse({ path: "l", type: "symlink", target: "../../outside" });
    expect(link.target).toBe("../../outside");
  });

  test("requires a positive seq on a sequenced entry", () => {
    expect(SequencedEntrySchema.safeParse({ ...file, seq: 0 }).success).toBe(false);
    expect(SequencedEntrySchema.parse({ ...file, seq: 7 }).seq).toBe(7);
  });

  test("accepts only lowercase 64-digit hex as a hash", () => {
    expect(HashSchema.safeParse("0123456789abcdef".repeat(4)).success).toBe(true);
    expect(HashSchema.safeParse("0123456789ABCDEF".repeat(4)).success).toBe(false);
    expect(HashSchema.safeParse(`${"0".repeat(63)}g`).success).toBe(false);
  });
});

describe("isSameEntry", () => {
  test("treats an identical file as the same", () => {
    expect(isSameEntry(file, { ...file })).toBe(true);
  });

  test.each([
    ["content hash", { hash: HASH_A }],
    ["mode", { mode: 0o600 }],
    ["mtime", { mtimeMs: file.mtimeMs + 1 }],
    ["size", { size: 4 }],
  ])("sees a file whose %s changed as different", (_what, patch) => {
    expect(isSameEntry(file, { ...file, ...patch })).toBe(false);
  });

  test("sees a change of type as different, whatever else matches", () => {
    expect(isSameEntry(file, { ...file, type: "dir" })).toBe(false);
    expect(isSameEntry({ ...file, type: "deleted" }, file)).toBe(false);
  });

  test("compares directories by mode only", () => {
    const dir: Entry = { ...file, type: "dir", size: 0, blocks: [], hash: "" };
    expect(isSameEntry(dir, { ...dir, mtimeMs: 1 })).toBe(true);
    expect(isSameEntry(dir, { ...dir, mode: 0o700 })).toBe(false);
  });

  test("compares symlinks by target only", () => {
    const link: Entry = { ...file, type: "symlink", blocks: [], hash: "", target: "a" };
    expect(isSameEntry(link, { ...link, mtimeMs: 5, mode: 0o777 })).toBe(true);
    expect(isSameEntry(link, { ...link, target: "b" })).toBe(false);
  });

  test("treats any two tombstones of a path as the same", () => {
    const gone: Entry = { ...file, type: "deleted" };
    expect(isSameEntry(gone, { ...gone, mtimeMs: 99, size: 0 })).toBe(true);
  });
});
