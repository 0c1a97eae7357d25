// One contract for every BlockStore: the libSQL table, the file store, and the file store over an older table.
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { openLibsql } from "../db/open-libsql.ts";
import { createFileBlockStore } from "../node/file-block-store.ts";
import type { BlockStore } from "../ports/block-store.ts";
import { createTableBlockStore } from "./table-block-store.ts";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "fleetsync-blockstore-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function tableStore(): Promise<BlockStore> {
  const dir = await tempDir();
  const opened = await openLibsql(`file:${join(dir, "hub.db")}`);
  cleanups.unshift(async () => opened.close());
  return createTableBlockStore(opened.db, 100);
}

const STORES: [string, () => Promise<BlockStore>][] = [
  ["the libSQL table", tableStore],
  ["the file store", async () => createFileBlockStore({ dir: join(await tempDir(), "blocks") })],
  [
    "the file store over an older table",
    async () => createFileBlockStore({ dir: join(await tempDir(), "blocks"), previous: await tableStore() }),
  ],
];

function block(bytes: Uint8Array = randomBytes(1000)) {
  return { hash: createHash("sha256").update(bytes).digest("hex"), bytes };
}

describe.each(STORES)("BlockStore contract: %s", (_name, make) => {
  test("stores a batch and gives every block back byte for byte", async () => {
    const store = await make();
    const blocks = [block(), block(randomBytes(128 * 1024)), block(new Uint8Array(0))];
    await store.put(blocks, 1000);
    for (const b of blocks) expect(Buffer.from((await store.get(b.hash))!)).toEqual(Buffer.from(b.bytes));
  });

  test("has() names exactly the stored hashes, and a missing block is simply absent", async () => {
    const store = await make();
    const [a, b, c] = [block(), block(), block()];
    await store.put([a, b], 1000);
    expect(await store.has([a.hash, b.hash, c.hash, a.hash])).toEqual(new Set([a.hash, b.hash]));
    expect(await store.get(c.hash)).toBeUndefined();
    expect(await store.has([])).toEqual(new Set());
  });

  test("storing a block twice, or twice in one batch, keeps one copy and changes nothing", async () => {
    const store = await make();
    const a = block();
    await store.put([a, a], 1000);
    await store.put([a], 2000);
    expect(await store.has([a.hash])).toEqual(new Set([a.hash]));
    expect(Buffer.from((await store.get(a.hash))!)).toEqual(Buffer.from(a.bytes));
  });

  test("deletes only unreferenced blocks stored before the cutoff", async () => {
    const store = await make();
    const [old, kept, fresh] = [block(), block(), block()];
    await store.put([old, kept], 1000);
    await store.put([fresh], 5000);
    const deleted = await store.deleteUnreferenced(async () => new Set([kept.hash]), 3000);
    expect(deleted).toBe(1);
    expect(await store.has([old.hash, kept.hash, fresh.hash])).toEqual(new Set([kept.hash, fresh.hash]));
  });
});

describe("the file store", () => {
  test("keeps serving and collecting the blocks an older table store holds", async () => {
    const previous = await tableStore();
    const inTable = block();
    await previous.put([inTable], 1000);
    const store = await createFileBlockStore({ dir: join(await tempDir(), "blocks"), previous });
    expect(await store.has([inTable.hash])).toEqual(new Set([inTable.hash]));
    expect(Buffer.from((await store.get(inTable.hash))!)).toEqual(Buffer.from(inTable.bytes));
    expect(await store.deleteUnreferenced(async () => new Set(), 2000)).toBe(1);
    expect(await previous.has([inTable.hash])).toEqual(new Set());
  });

  test("removes temp files a crash left, at start, and never takes one for a block", async () => {
    const dir = join(await tempDir(), "blocks");
    const first = await createFileBlockStore({ dir });
    await first.put([block()], 1000);
    await writeFile(join(dir, "tmp", "half-written"), "partial");
    await createFileBlockStore({ dir });
    expect(await readdir(join(dir, "tmp"))).toEqual([]);
  });
});
