import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { compactIndexBehind } from "./index-record.ts";
import {
  DamagedStateError,
  emptyShareState,
  type IndexEntry,
  loadShareState,
  openShareState,
  saveShareState,
  shareStateFile,
} from "./share-state.ts";

const file = (i: number): IndexEntry => ({
  type: "file",
  size: i,
  mtimeMs: 1_700_000_000_000 + i,
  ino: 500 + i,
  mode: 0o644,
  blockSize: 131072,
  blocks: [i.toString(16).padStart(64, "a")],
  hash: i.toString(16).padStart(64, "b"),
  seq: i + 1,
});
const link: IndexEntry = {
  type: "symlink",
  size: 0,
  mtimeMs: 0,
  ino: 9,
  mode: 0,
  blockSize: 131072,
  blocks: [],
  hash: "",
  target: "../elsewhere",
};

let dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  dirs = [];
});
async function stateDir() {
  const dir = await mkdtemp(join(tmpdir(), "fleetsync-state-"));
  dirs.push(dir);
  return dir;
}

describe("share state file", () => {
  test.each([false, true])("saves and loads the same state (index packed in memory: %s)", async (packed) => {
    const dir = await stateDir();
    const state = emptyShareState({ packed });
    state.cursor = 42;
    for (let i = 0; i < 50; i++) state.index[`d/f${i}`] = file(i);
    state.index["d/link"] = link;
    state.lastError = "something";
    await saveShareState(dir, "s", state);
    for (const asPacked of [false, true]) {
      const loaded = (await loadShareState(dir, "s", { packed: asPacked }))!;
      expect(loaded.cursor).toBe(42);
      expect(loaded.lastError).toBe("something");
      expect(Object.keys(loaded.index).sort()).toEqual(Object.keys(state.index).sort());
      expect(loaded.index["d/f7"]).toEqual(file(7));
      expect(loaded.index["d/link"]).toEqual(link);
      expect(compactIndexBehind(loaded.index) !== undefined).toBe(asPacked);
    }
    expect(await readdir(dirname(shareStateFile(dir, "s")))).toEqual(["s.json"]);
  });

  test("reads a version 1 file (one JSON object per entry) and writes it back as version 2", async () => {
    const dir = await stateDir();
    const path = shareStateFile(dir, "s");
    await mkdir(dirname(path), { recursive: true });
    const v1 = {
      version: 1,
      cursor: 3,
      index: { "a.txt": file(1), l: link },
      lastChangeAt: null,
      lastError: null,
    };
    await writeFile(path, JSON.stringify(v1));
    for (const packed of [false, true]) {
      const loaded = (await loadShareState(dir, "s", { packed }))!;
      expect(loaded.index["a.txt"]).toEqual(file(1));
      expect(loaded.index.l).toEqual(link);
      expect(loaded.failed).toEqual({});
      expect(loaded.deferred).toEqual({});
    }
    await saveShareState(dir, "s", (await loadShareState(dir, "s", { packed: true }))!);
    expect(JSON.parse(await readFile(path, "utf8")).version).toBe(2);
    expect((await loadShareState(dir, "s"))!.index["a.txt"]).toEqual(file(1));
  });

  test("a version 2 file whose index columns disagree is damaged, and the share starts over from an empty state", async () => {
    const dir = await stateDir();
    const state = emptyShareState({ packed: true });
    state.index.a = file(1);
    await saveShareState(dir, "s", state);
    const path = shareStateFile(dir, "s");
    const stored = JSON.parse(await readFile(path, "utf8"));
    stored.index.kinds = "fd";
    await writeFile(path, JSON.stringify(stored));
    await expect(loadShareState(dir, "s")).rejects.toThrow(DamagedStateError);
    await expect(loadShareState(dir, "s")).rejects.toThrow(
      /index: the packed index's columns differ in length/,
    );
    const moved: string[] = [];
    const opened = await openShareState(dir, "s", {
      packed: true,
      now: () => new Date("2026-01-02T03:04:05Z"),
      onDamaged: (_error, to) => moved.push(to),
    });
    expect(opened.isNew).toBe(false);
    expect(Object.keys(opened.state.index)).toEqual([]);
    expect(moved).toEqual([`${path}.damaged-2026-01-02T030405.000Z`]);
  });
});
