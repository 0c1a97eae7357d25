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
import { journalFile } from "./state-journal.ts";

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

  test("a packed state saved again with nothing changed is not rewritten; a changed field or entry is", async () => {
    const dir = await stateDir();
    const path = shareStateFile(dir, "s");
    const state = emptyShareState({ packed: true });
    for (let i = 0; i < 50; i++) state.index[`f${i}`] = file(i);
    await saveShareState(dir, "s", state);
    const { stat } = await import("node:fs/promises");
    const inode = async () => (await stat(path)).ino;
    const first = await inode();
    await saveShareState(dir, "s", state);
    expect(await inode()).toBe(first);
    // Loaded back unchanged (a restart), and saved at stop: still the same file.
    const loaded = (await loadShareState(dir, "s", { packed: true }))!;
    await saveShareState(dir, "s", loaded);
    expect(await inode()).toBe(first);
    loaded.cursor = 7;
    await saveShareState(dir, "s", loaded);
    const second = await inode();
    expect(second).not.toBe(first);
    expect((await loadShareState(dir, "s", { packed: true }))!.cursor).toBe(7);
    loaded.index.f3 = file(300);
    await saveShareState(dir, "s", loaded);
    expect(await inode()).not.toBe(second);
    expect((await loadShareState(dir, "s", { packed: true }))!.index.f3).toEqual(file(300));
    delete loaded.index.f4;
    const third = await inode();
    await saveShareState(dir, "s", loaded);
    expect(await inode()).not.toBe(third);
    expect((await loadShareState(dir, "s", { packed: true }))!.index.f4).toBeUndefined();
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

  test("a receiving share's save after a change appends only that change; loading replays it, and the file is rewritten once the journal grows", async () => {
    const dir = await stateDir();
    const path = shareStateFile(dir, "s");
    const state = emptyShareState();
    for (let i = 0; i < 2000; i++) state.index[`d${i % 10}/f${i}`] = file(i);
    await saveShareState(dir, "s", state);
    const whole = await readFile(path, "utf8");

    state.index["d1/f1"] = file(9999);
    delete state.index["d2/f2"];
    state.cursor = 77;
    await saveShareState(dir, "s", state);
    // the state file is as it was; one short line says what changed
    expect(await readFile(path, "utf8")).toBe(whole);
    const lines = (await readFile(journalFile(path), "utf8")).trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]!.length).toBeLessThan(1000);
    const loaded = (await loadShareState(dir, "s"))!;
    expect(loaded.cursor).toBe(77);
    expect(loaded.index["d1/f1"]).toEqual(file(9999));
    expect(loaded.index["d2/f2"]).toBeUndefined();
    expect(Object.keys(loaded.index)).toHaveLength(1999);

    // saves from the loaded state keep appending; past the limit (1,000 entries here) the file is rewritten
    for (let i = 0; i < 1100; i++) {
      loaded.index[`new/${i}`] = file(i);
      await saveShareState(dir, "s", loaded);
      if (i === 500) expect(await readFile(path, "utf8")).toBe(whole);
    }
    expect(await readFile(path, "utf8")).not.toBe(whole);
    const again = (await loadShareState(dir, "s"))!;
    expect(Object.keys(again.index)).toHaveLength(3099);
    expect(again.index["new/1099"]).toEqual(file(1099));
    expect(again.cursor).toBe(77);
  });

  test("a journal line cut short by a crash is dropped, and a journal left from before the last rewrite is ignored", async () => {
    const dir = await stateDir();
    const path = shareStateFile(dir, "s");
    const state = emptyShareState();
    state.index.a = file(1);
    await saveShareState(dir, "s", state);
    state.index.b = file(2);
    state.cursor = 5;
    await saveShareState(dir, "s", state);
    const journal = await readFile(journalFile(path), "utf8");
    // a second save torn half-way: its instruction was never acknowledged, so the state before it is right
    await writeFile(journalFile(path), `${journal}${journal.slice(0, 40)}`);
    const loaded = (await loadShareState(dir, "s"))!;
    expect(loaded.cursor).toBe(5);
    expect(loaded.index.b).toEqual(file(2));
    // saving after the tear and loading again still works (the next save must not append to the fragment)
    loaded.index.c = file(3);
    await saveShareState(dir, "s", loaded);
    const resaved = (await loadShareState(dir, "s"))!;
    expect(resaved.index.c).toEqual(file(3));
    expect(resaved.index.b).toEqual(file(2));
    await writeFile(journalFile(path), `${journal}${journal.slice(0, 40)}`);

    // a rewrite of the whole file, then the old journal put back (a crash before it was removed): not replayed
    const fresh = emptyShareState();
    fresh.index.z = file(26);
    await saveShareState(dir, "s", fresh);
    await writeFile(journalFile(path), journal);
    const after = (await loadShareState(dir, "s"))!;
    expect(Object.keys(after.index)).toEqual(["z"]);
    expect(after.cursor).toBe(0);

    // a bad line before the end is damage, named with its file
    await writeFile(journalFile(path), `not json\n${journal}`);
    await expect(loadShareState(dir, "s")).rejects.toThrow(DamagedStateError);
    await expect(loadShareState(dir, "s")).rejects.toThrow(
      /s\.json\.journal is damaged \(line 1 is not JSON/,
    );
  });
});
