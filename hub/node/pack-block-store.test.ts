// What the pack store adds to the BlockStore contract: durable puts across reopens, crash recovery, compaction, older stores.
import { createHash, randomBytes } from "node:crypto";
import { appendFile, mkdtemp, readdir, rm, stat, truncate } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, test } from "vitest";
import { type OpenedDatabase, openLibsql } from "../db/open-libsql.ts";
import { createFileBlockStore } from "./file-block-store.ts";
import { createPackBlockStore, type PackBlockStore } from "./pack-block-store.ts";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

function block(bytes: Uint8Array = randomBytes(1000)) {
  return { hash: createHash("sha256").update(bytes).digest("hex"), bytes: new Uint8Array(bytes) };
}

/** A hub data dir: its database and its packs dir; `open()` opens (or reopens) a store on them. */
async function hubDir(packBytes = 64 * 1024) {
  const dir = await mkdtemp(join(tmpdir(), "fleetsync-packs-"));
  const packs = join(dir, "packs");
  let opened: OpenedDatabase | undefined;
  let store: PackBlockStore | undefined;
  const close = async () => {
    await store?.close();
    opened?.close();
    store = undefined;
    opened = undefined;
  };
  cleanups.push(async () => {
    await close();
    await rm(dir, { recursive: true, force: true });
  });
  const open = async (extra: { previous?: Parameters<typeof createPackBlockStore>[0]["previous"] } = {}) => {
    await close();
    opened = await openLibsql(`file:${join(dir, "hub.db")}`);
    store = await createPackBlockStore({ dir: packs, db: opened.db, paramLimit: 100, packBytes, ...extra });
    return store;
  };
  const packFiles = async () => (await readdir(packs)).filter((n) => n.endsWith(".pack")).sort();
  const packBytesOnDisk = async () => {
    let total = 0;
    for (const name of await packFiles()) total += (await stat(join(packs, name))).size;
    return total;
  };
  return { dir, packs, open, close, packFiles, packBytesOnDisk };
}

async function expectStored(store: PackBlockStore, blocks: { hash: string; bytes: Uint8Array }[]) {
  const many = await store.getMany(blocks.map((b) => b.hash));
  for (const b of blocks) {
    expect(Buffer.from(many.get(b.hash) ?? [])).toEqual(Buffer.from(b.bytes));
    expect(Buffer.from((await store.get(b.hash)) ?? [])).toEqual(Buffer.from(b.bytes));
  }
  expect(await store.has(blocks.map((b) => b.hash))).toEqual(new Set(blocks.map((b) => b.hash)));
}

test("every block a put stored reads back identical after the store and its database are reopened", async () => {
  const hub = await hubDir();
  const store = await hub.open();
  const batches = Array.from({ length: 5 }, (_, i) =>
    Array.from({ length: 12 }, (_, j) => block(randomBytes(((i * 12 + j) % 7) * 3000 + 1))),
  );
  for (const batch of batches) await store.put(batch, 1000);
  // Small packs: the batches span several pack files.
  expect((await hub.packFiles()).length).toBeGreaterThan(2);
  const reopened = await hub.open();
  await expectStored(reopened, batches.flat());
  // And the reopened store appends after what is there.
  const more = [block(), block(randomBytes(70 * 1024))];
  await reopened.put(more, 2000);
  await expectStored(await hub.open(), [...batches.flat(), ...more]);
});

test("a torn pack tail a crash left (bytes written, never indexed) is cut off at open and never claimed", async () => {
  const hub = await hubDir(1024 * 1024);
  const store = await hub.open();
  const kept = [block(), block(randomBytes(5000))];
  await store.put(kept, 1000);
  await hub.close();
  const [pack] = await hub.packFiles();
  const packPath = join(hub.packs, pack!);
  const indexedSize = (await stat(packPath)).size;
  // What a put leaves when the hub dies after its write (even after its fdatasync) but before the index commit.
  const torn = block(randomBytes(3000));
  await appendFile(packPath, torn.bytes);
  await appendFile(packPath, randomBytes(777));

  const reopened = await hub.open();
  expect((await stat(packPath)).size).toBe(indexedSize);
  expect(await reopened.has([torn.hash])).toEqual(new Set());
  expect(await reopened.get(torn.hash)).toBeUndefined();
  await expectStored(reopened, kept);
  await reopened.put([torn], 2000);
  await expectStored(await hub.open(), [...kept, torn]);
});

test("an indexed block whose bytes are not all in its pack is missing, never served short, and unclaimed at open", async () => {
  const hub = await hubDir(1024 * 1024);
  const store = await hub.open();
  const [first, last] = [block(randomBytes(4000)), block(randomBytes(4000))];
  await store.put([first], 1000);
  await store.put([last], 1000);
  const [pack] = await hub.packFiles();
  await truncate(join(hub.packs, pack!), 4000 + 1500);
  expect(await store.get(last.hash)).toBeUndefined();
  expect([...(await store.getMany([first.hash, last.hash])).keys()]).toEqual([first.hash]);

  const reopened = await hub.open();
  expect(await reopened.has([first.hash, last.hash])).toEqual(new Set([first.hash]));
  await expectStored(reopened, [first]);
});

test("compaction keeps every live block readable and frees the space of deleted ones", async () => {
  const hub = await hubDir(64 * 1024);
  const store = await hub.open();
  const blocks = Array.from({ length: 60 }, () => block(randomBytes(8 * 1024)));
  for (let i = 0; i < blocks.length; i += 10) await store.put(blocks.slice(i, i + 10), 1000);
  const before = await hub.packBytesOnDisk();
  const packsBefore = (await hub.packFiles()).length;
  // Two of every three go: every pack falls under half live.
  const doomed = blocks.filter((_, i) => i % 3 !== 0);
  const live = blocks.filter((_, i) => i % 3 === 0);
  expect(await store.deleteBlocks(doomed.map((b) => b.hash))).toBe(doomed.length);

  const result = await store.compact();
  expect(result.packsRemoved).toBeGreaterThanOrEqual(packsBefore - 1);
  expect(result.blocksMoved).toBe(live.length);
  const after = await hub.packBytesOnDisk();
  expect(after).toBeLessThan(before / 2);
  expect(after).toBeGreaterThanOrEqual(live.length * 8 * 1024);
  await expectStored(store, live);
  expect(await store.has(doomed.map((b) => b.hash))).toEqual(new Set());
  await expectStored(await hub.open(), live);
});

test("deleting every block removes every pack by itself shortly after (a relay hub keeps ~0 bytes)", async () => {
  const hub = await hubDir(64 * 1024);
  const store = await hub.open();
  const blocks = Array.from({ length: 20 }, () => block(randomBytes(10 * 1024)));
  await store.put(blocks, 1000);
  expect(await store.deleteUnreferenced(async () => new Set(), 2000)).toBe(blocks.length);
  const deadline = Date.now() + 10_000;
  while ((await hub.packFiles()).length > 0 && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 100));
  expect(await hub.packFiles()).toEqual([]);
  // The next put starts a new pack.
  const again = block();
  await store.put([again], 3000);
  await expectStored(store, [again]);
});

test("keeps serving and collecting an older file store's blocks, and never writes to it", async () => {
  const hub = await hubDir();
  const blocksDir = join(hub.dir, "blocks");
  const files = await createFileBlockStore({ dir: blocksDir });
  const old = [block(), block(randomBytes(200 * 1024))];
  await files.put(old, 1000);
  const store = await hub.open({ previous: files });
  await expectStored(store, old);
  // Already stored (in the older store): not written again.
  await store.put([old[0]!], 2000);
  expect(await hub.packFiles()).toEqual([]);
  const fresh = block();
  await store.put([fresh], 2000);
  expect(await files.has([fresh.hash])).toEqual(new Set());
  await expectStored(store, [...old, fresh]);
  expect(await store.deleteBlocks([old[0]!.hash])).toBe(1);
  expect(await store.deleteUnreferenced(async () => new Set([fresh.hash]), 3000)).toBe(1);
  expect(await files.has(old.map((b) => b.hash))).toEqual(new Set());
  await expectStored(store, [fresh]);
});
