import { randomBytes } from "node:crypto";
import { describe, expect, test } from "vitest";
import type { BlockFrame } from "../../../../shared/blocks/block-frames.ts";
import { blockSpans } from "../../../../shared/blocks/block-spans.ts";
import type { SequencedEntry } from "../../../../shared/protocol/entry.ts";
import { hashBytes } from "../../../blocks/hash-blocks.ts";
import type { AgentLogger } from "../../../log/agent-logger.ts";
import type { ShareIndex } from "../../share-kind.ts";
import { createMemoryShareFs, type MemoryShareFs } from "../fs/memory-share-fs.ts";
import { isTempName } from "../fs/temp-name.ts";
import { type ExecuteContext, executeOperations } from "./execute-operations.ts";
import { PERMISSION_BITS } from "./plan-operation.ts";
import { TRASH_DIR } from "./trash.ts";

const MTIME = 1_700_000_123_000;
const quiet: AgentLogger = { debug() {}, info() {}, warn() {}, error() {}, child: () => quiet };

/** A hub that holds the blocks of the files given to it, and counts what it was asked for. */
function fakeHub() {
  const blocks = new Map<string, Uint8Array>();
  const asked: string[] = [];
  return {
    asked,
    async file(path: string, content: string | Uint8Array, seq: number, extra: Partial<SequencedEntry> = {}) {
      const bytes = typeof content === "string" ? new TextEncoder().encode(content) : content;
      const hashes = await hashBytes(bytes);
      for (const { hash, offset, length } of blockSpans(hashes)) {
        blocks.set(hash, bytes.subarray(offset, offset + length));
      }
      return {
        path,
        type: "file",
        size: hashes.size,
        mode: 0o644,
        mtimeMs: MTIME,
        blockSize: hashes.blockSize,
        blocks: hashes.blocks,
        ...(hashes.blockLengths ? { blockLengths: hashes.blockLengths } : {}),
        hash: hashes.hash,
        seq,
        ...extra,
      } satisfies SequencedEntry;
    },
    forget(hash: string) {
      blocks.delete(hash);
    },
    fetchBlocks: async function* (hashes: string[]): AsyncGenerator<BlockFrame> {
      for (const hash of hashes) {
        asked.push(hash);
        const bytes = blocks.get(hash);
        if (bytes) yield { hash, bytes };
      }
    },
  };
}

const dir = (path: string, seq: number, mode = 0o755): SequencedEntry => ({
  path,
  type: "dir",
  size: 0,
  mode,
  mtimeMs: 0,
  blockSize: 131072,
  blocks: [],
  hash: "",
  seq,
});
const link = (path: string, target: string, seq: number): SequencedEntry => ({
  ...dir(path, seq, 0),
  type: "symlink",
  target,
});
const gone = (path: string, seq: number): SequencedEntry => ({ ...dir(path, seq, 0), type: "deleted" });

function context(fs: MemoryShareFs, hub: ReturnType<typeof fakeHub>, extra: Partial<ExecuteContext> = {}) {
  const index: ShareIndex = {};
  const ctx: ExecuteContext = {
    fs,
    deletes: "propagate",
    modeMask: PERMISSION_BITS,
    unreportedLocalChange: "overwrite",
    dryRun: false,
    index,
    fetchBlocks: hub.fetchBlocks,
    log: quiet,
    now: () => new Date("2026-12-01T10:00:00.000Z"),
    ...extra,
  };
  return ctx;
}
const STAMP = "20261201-100000-000";
const trashed = (fs: MemoryShareFs) =>
  Object.keys(fs.tree())
    .filter((p) => p.startsWith(`${TRASH_DIR}/${STAMP}/`))
    .map((p) => p.slice(TRASH_DIR.length + STAMP.length + 2));
const userTree = (fs: MemoryShareFs) =>
  Object.fromEntries(Object.entries(fs.tree()).filter(([p]) => !p.startsWith(".fleetsync")));

describe("executeOperations on the in-memory filesystem", () => {
  test("creates directories, files and symlinks and records each in the index with its inode", async () => {
    const fs = createMemoryShareFs();
    const hub = fakeHub();
    const ctx = context(fs, hub);
    const results = await executeOperations(ctx, [
      dir("docs", 1),
      await hub.file("docs/a.txt", "alpha", 2),
      link("docs/latest", "a.txt", 3),
      await hub.file("deep/er/b.txt", "beta", 4),
    ]);
    expect(results.map((r) => [r.path, r.action, r.ok])).toEqual([
      ["docs", "mkdir", true],
      ["docs/a.txt", "create", true],
      ["docs/latest", "symlink", true],
      ["deep/er/b.txt", "create", true],
    ]);
    expect(fs.text("docs/a.txt")).toBe("alpha");
    expect(await fs.readlink("docs/latest")).toBe("a.txt");
    expect((await fs.stat("docs/a.txt"))?.mtimeMs).toBe(MTIME);
    expect(ctx.index["docs/a.txt"]?.ino).toBe((await fs.stat("docs/a.txt"))?.ino);
    expect(Object.keys(ctx.index).sort()).toEqual(
      ["docs", "docs/a.txt", "docs/latest", "deep/er/b.txt"].sort(),
    );
  });

  test("type changes keep what was replaced in trash: file → dir, dir → file, file → symlink", async () => {
    const fs = createMemoryShareFs();
    const hub = fakeHub();
    fs.put("was-file", "old file");
    fs.put("was-dir/inner.txt", "inner");
    fs.put("was-plain", "plain");
    const results = await executeOperations(context(fs, hub), [
      dir("was-file", 1),
      await hub.file("was-dir", "now a file", 2),
      link("was-plain", "elsewhere", 3),
    ]);
    expect(results.every((r) => r.ok)).toBe(true);
    expect(userTree(fs)).toEqual({ "was-dir": "file", "was-file": "dir", "was-plain": "symlink" });
    expect(trashed(fs).sort()).toEqual(["was-dir", "was-dir/inner.txt", "was-file", "was-plain"]);
  });

  test("a rename (delete + create) reuses the local blocks instead of fetching them", async () => {
    const fs = createMemoryShareFs();
    const hub = fakeHub();
    const ctx = context(fs, hub);
    const original = await hub.file("old-name.txt", "the same content", 1);
    await executeOperations(ctx, [original]);
    hub.asked.length = 0;
    const results = await executeOperations(ctx, [
      gone("old-name.txt", 2),
      await hub.file("new-name.txt", "the same content", 3),
    ]);
    expect(results.map((r) => [r.path, r.action])).toEqual([
      ["new-name.txt", "create"],
      ["old-name.txt", "delete"],
    ]);
    expect(hub.asked).toEqual([]);
    expect(userTree(fs)).toEqual({ "new-name.txt": "file" });
  });

  test("a case-only rename ends with the new spelling only, its content reused", async () => {
    const fs = createMemoryShareFs();
    const hub = fakeHub();
    const ctx = context(fs, hub);
    await executeOperations(ctx, [await hub.file("Readme.md", "hello", 1)]);
    hub.asked.length = 0;
    await executeOperations(ctx, [gone("Readme.md", 2), await hub.file("README.md", "hello", 3)]);
    expect(userTree(fs)).toEqual({ "README.md": "file" });
    expect(hub.asked).toEqual([]);
  });

  test("a directory deleted and recreated as a file in one instruction: the tree ends as the hub says", async () => {
    const fs = createMemoryShareFs();
    const hub = fakeHub();
    const ctx = context(fs, hub);
    await executeOperations(ctx, [dir("d", 1), await hub.file("d/x.txt", "x", 2)]);
    const results = await executeOperations(ctx, [gone("d/x.txt", 3), await hub.file("d", "now a file", 4)]);
    expect(results.every((r) => r.ok)).toBe(true);
    expect(userTree(fs)).toEqual({ d: "file" });
    expect(fs.text("d")).toBe("now a file");
    expect(Object.keys(ctx.index)).toEqual(["d"]);
  });

  test("deletes: keep skips every deletion and removes nothing", async () => {
    const fs = createMemoryShareFs();
    fs.put("keep.txt", "keep");
    const results = await executeOperations(context(fs, fakeHub(), { deletes: "keep" }), [
      gone("keep.txt", 1),
    ]);
    expect(results[0]).toMatchObject({ action: "skip", ok: true });
    expect(fs.text("keep.txt")).toBe("keep");
  });

  test("a dry run reports what it would do and changes nothing", async () => {
    const fs = createMemoryShareFs();
    const hub = fakeHub();
    fs.put("old.txt", "old");
    fs.put("blocker", "a file where a directory must go");
    const before = fs.tree();
    const results = await executeOperations(context(fs, hub, { dryRun: true }), [
      await hub.file("new.txt", "new", 1),
      await hub.file("old.txt", "changed", 2),
      await hub.file("blocker/inside.txt", "x", 3),
      gone("old.txt", 4),
    ]);
    expect(results.map((r) => r.action)).toEqual(["create", "update", "create", "delete"]);
    expect(fs.tree()).toEqual(before);
    expect(hub.asked).toEqual([]);
  });

  test("a local edit on a replica is overwritten and the edited copy kept in trash", async () => {
    const fs = createMemoryShareFs();
    const hub = fakeHub();
    const ctx = context(fs, hub);
    await executeOperations(ctx, [await hub.file("notes.txt", "from the hub", 1)]);
    fs.put("notes.txt", "edited here", { ino: 999, mtimeMs: MTIME + 5000 });
    await executeOperations(ctx, [await hub.file("notes.txt", "from the hub, v2", 2)]);
    expect(fs.text("notes.txt")).toBe("from the hub, v2");
    expect(fs.text(`${TRASH_DIR}/${STAMP}/notes.txt`)).toBe("edited here");
  });

  test("a peer leaves a local edit alone (it is reported first)", async () => {
    const fs = createMemoryShareFs();
    const hub = fakeHub();
    const ctx = context(fs, hub, { unreportedLocalChange: "report" });
    await executeOperations(ctx, [await hub.file("notes.txt", "from the hub", 1)]);
    fs.put("notes.txt", "edited here", { ino: 999 });
    const [result] = await executeOperations(ctx, [await hub.file("notes.txt", "from elsewhere", 2)]);
    expect(result).toMatchObject({ action: "defer", ok: true });
    expect(fs.text("notes.txt")).toBe("edited here");
  });

  test("a block that turns out missing on the hub fails that file only, leaves no temp file and the old content", async () => {
    const fs = createMemoryShareFs();
    const hub = fakeHub();
    fs.put("a.txt", "old a");
    const missing = await hub.file("a.txt", "new a", 1);
    hub.forget(missing.blocks[0]!);
    const results = await executeOperations(context(fs, hub), [missing, await hub.file("b.txt", "b", 2)]);
    expect(results.find((r) => r.path === "a.txt")).toMatchObject({
      ok: false,
      error: expect.stringMatching(/not on the hub/),
    });
    expect(results.find((r) => r.path === "b.txt")).toMatchObject({ ok: true, action: "create" });
    expect(fs.text("a.txt")).toBe("old a");
    expect(Object.keys(fs.tree()).filter((p) => isTempName(p.split("/").pop()!))).toEqual([]);
  });

  test("a full disk fails the write with a clear reason, removes the temp file and keeps the old file", async () => {
    const fs = createMemoryShareFs();
    const hub = fakeHub();
    fs.put("a.txt", "old a");
    fs.failNext("write", "*", "ENOSPC");
    const [result] = await executeOperations(context(fs, hub), [await hub.file("a.txt", "new a", 1)]);
    expect(result).toMatchObject({ ok: false, error: expect.stringMatching(/disk full \(ENOSPC\)/) });
    expect(fs.text("a.txt")).toBe("old a");
    expect(Object.keys(fs.tree()).filter((p) => isTempName(p.split("/").pop()!))).toEqual([]);
  });

  test("a symlinked ancestor is moved to trash and replaced by a real directory; nothing is written through it", async () => {
    const fs = createMemoryShareFs();
    const hub = fakeHub();
    fs.putSymlink("etc", "/etc");
    const [result] = await executeOperations(context(fs, hub), [
      await hub.file("etc/passwd", "not yours", 1),
    ]);
    expect(result).toMatchObject({ ok: true, action: "create" });
    expect((await fs.stat("etc"))?.type).toBe("dir");
    expect(fs.text("etc/passwd")).toBe("not yours");
    expect(trashed(fs)).toEqual(["etc"]);
    expect(await fs.readlink(`${TRASH_DIR}/${STAMP}/etc`)).toBe("/etc");
  });

  test("rebuilds a file with 4 KiB inserted at its start from its own old chunks, fetching only the new ones", async () => {
    const fs = createMemoryShareFs();
    const hub = fakeHub();
    const ctx = context(fs, hub);
    const original = randomBytes(2 * 1024 * 1024);
    const first = await hub.file("big.bin", original, 1);
    expect(first.blockLengths?.length).toBeGreaterThan(10);
    await executeOperations(ctx, [first]);
    hub.asked.length = 0;

    const edited = Buffer.concat([randomBytes(4096), original]);
    const second = await hub.file("big.bin", edited, 2);
    const [result] = await executeOperations(ctx, [second]);

    expect(result).toMatchObject({ ok: true });
    const file = await fs.openRead("big.bin");
    const written = Buffer.alloc(edited.length + 1);
    expect(await file.read(written, 0, written.length, 0)).toBe(edited.length);
    await file.close();
    expect(written.subarray(0, edited.length).equals(edited)).toBe(true);
    const reused = new Set(first.blocks);
    expect(hub.asked.every((hash) => !reused.has(hash))).toBe(true);
    expect(hub.asked.length).toBeLessThanOrEqual(3);
    expect(second.blocks.length - hub.asked.length).toBeGreaterThan(10);
    expect(ctx.index["big.bin"]?.blockLengths).toEqual(second.blockLengths);
  });

  test("an instruction whose block list cannot hold the file's size is refused for that file", async () => {
    const fs = createMemoryShareFs();
    const hub = fakeHub();
    const bad = { ...(await hub.file("x.bin", "abc", 1)), size: 10_000_000 };
    const [result] = await executeOperations(context(fs, hub), [bad]);
    expect(result).toMatchObject({
      ok: false,
      error: expect.stringMatching(/1 blocks do not cover 10000000 bytes/),
    });
    expect(await fs.stat("x.bin")).toBeUndefined();
  });
});
