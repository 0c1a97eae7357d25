// One contract for every BlockStore: the libSQL table, the file store (alone and over an older table), the pack store
// (alone and over an older file store), and R2 with its D1 index under workerd.
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { migrate } from "drizzle-orm/d1/migrator";
import { Miniflare } from "miniflare";
import { afterEach, describe, expect, test } from "vitest";
import type { Database } from "../db/database.ts";
import { MIGRATIONS_FOLDER, openLibsql } from "../db/open-libsql.ts";
import * as schema from "../db/schema.ts";
import { createFileBlockStore } from "../node/file-block-store.ts";
import { createPackBlockStore } from "../node/pack-block-store.ts";
import type { BlockStore } from "../ports/block-store.ts";
import { blockKey, createR2BlockStore, type ObjectBucket } from "../workers/r2-block-store.ts";
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

/** A pack store on a temp dir and its own migrated libSQL database, small packs so a batch spans several. */
async function packStore(previous?: BlockStore): Promise<BlockStore> {
  const dir = await tempDir();
  const opened = await openLibsql(`file:${join(dir, "hub.db")}`);
  const store = await createPackBlockStore({
    dir: join(dir, "packs"),
    db: opened.db,
    paramLimit: 100,
    packBytes: 512 * 1024,
    ...(previous ? { previous } : {}),
  });
  cleanups.unshift(async () => {
    await store.close();
    opened.close();
  });
  return store;
}

/** Real R2 and D1 as workerd runs them locally (miniflare), the D1 database migrated like the Workers hub's. */
async function workerdBindings() {
  const mf = new Miniflare({
    modules: true,
    script: "export default { fetch() { return new Response(''); } }",
    r2Buckets: ["BLOCKS"],
    d1Databases: ["DB"],
  });
  cleanups.unshift(() => mf.dispose());
  const bucket = (await mf.getR2Bucket("BLOCKS")) as unknown as ObjectBucket;
  const db = drizzle(await mf.getD1Database("DB"), { schema }) as unknown as Database;
  await migrate(db as never, { migrationsFolder: MIGRATIONS_FOLDER });
  return { bucket, db };
}

async function r2Store(): Promise<BlockStore> {
  const { bucket, db } = await workerdBindings();
  return createR2BlockStore({ bucket, db, paramLimit: 100 });
}

const STORES: [string, () => Promise<BlockStore>][] = [
  ["the libSQL table", tableStore],
  ["the file store", async () => createFileBlockStore({ dir: join(await tempDir(), "blocks") })],
  [
    "the file store over an older table",
    async () => createFileBlockStore({ dir: join(await tempDir(), "blocks"), previous: await tableStore() }),
  ],
  ["the pack store", () => packStore()],
  [
    "the pack store over an older file store",
    async () =>
      packStore(
        await createFileBlockStore({ dir: join(await tempDir(), "blocks"), previous: await tableStore() }),
      ),
  ],
  ["R2 with its D1 index (workerd)", r2Store],
];

/** A block as the upload route hands it over: a plain Uint8Array (miniflare's Node proxy refuses a Buffer). */
function block(bytes: Uint8Array = randomBytes(1000)) {
  return { hash: createHash("sha256").update(bytes).digest("hex"), bytes: new Uint8Array(bytes) };
}

describe.each(STORES)("BlockStore contract: %s", (_name, make) => {
  test("stores a batch and gives every block back byte for byte", async () => {
    const store = await make();
    const blocks = [
      block(),
      block(randomBytes(128 * 1024)),
      block(new Uint8Array(0)),
      // At and past the file store's first read (256 KiB), which reads on to a larger block's end.
      block(randomBytes(256 * 1024)),
      block(randomBytes(600 * 1024)),
    ];
    await store.put(blocks, 1000);
    for (const b of blocks) expect(Buffer.from((await store.get(b.hash))!)).toEqual(Buffer.from(b.bytes));
    const many = await store.getMany(blocks.map((b) => b.hash));
    for (const b of blocks) expect(Buffer.from(many.get(b.hash)!)).toEqual(Buffer.from(b.bytes));
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

  test("getMany() gives back the stored ones of a batch byte for byte, once each, and leaves missing blocks out", async () => {
    const store = await make();
    const stored = Array.from({ length: 120 }, (_, i) => block(randomBytes(i === 0 ? 128 * 1024 : 100 + i)));
    const missing = block();
    await store.put([...stored, block(new Uint8Array(0))], 1000);
    const empty = block(new Uint8Array(0));
    const asked = [missing.hash, ...stored.map((b) => b.hash), stored[5]!.hash, empty.hash];
    const got = await store.getMany(asked);
    expect([...got.keys()].sort()).toEqual([...stored.map((b) => b.hash), empty.hash].sort());
    for (const b of [...stored, empty]) expect(Buffer.from(got.get(b.hash)!)).toEqual(Buffer.from(b.bytes));
    expect(await store.getMany([])).toEqual(new Map());
    expect(await store.getMany([missing.hash])).toEqual(new Map());
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

  test("deleteBlocks() deletes exactly the named blocks, across more than one statement binds, and skips absent ones", async () => {
    const store = await make();
    const doomed = Array.from({ length: 130 }, () => block(randomBytes(64)));
    const kept = block();
    const absent = block();
    await store.put([...doomed, kept], 1000);
    const deleted = await store.deleteBlocks([...doomed.map((b) => b.hash), absent.hash, doomed[0]!.hash]);
    expect(deleted).toBe(doomed.length);
    expect(await store.has([...doomed.map((b) => b.hash), kept.hash])).toEqual(new Set([kept.hash]));
    expect(await store.getMany([doomed[1]!.hash])).toEqual(new Map());
    expect(await store.deleteBlocks([])).toBe(0);
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

  test("stores a block even when its prefix directory was removed after an earlier put", async () => {
    const dir = join(await tempDir(), "blocks");
    const store = await createFileBlockStore({ dir });
    const first = block();
    await store.put([first], 1000);
    await rm(join(dir, first.hash.slice(0, 2)), { recursive: true });
    const again = block(first.bytes);
    await store.put([again], 2000);
    expect(Buffer.from((await store.getMany([again.hash])).get(again.hash)!)).toEqual(
      Buffer.from(first.bytes),
    );
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

describe("the R2 store", () => {
  test("keeps block bytes in R2 and only the index in D1, across more blocks than one D1 statement binds", async () => {
    const { bucket, db } = await workerdBindings();
    const store = createR2BlockStore({ bucket, db, paramLimit: 100 });
    const blocks = Array.from({ length: 150 }, () => block(randomBytes(64)));
    await store.put(blocks, 1000);
    expect((await store.has(blocks.map((b) => b.hash))).size).toBe(150);
    const object = await bucket.get(blockKey(blocks[0]!.hash));
    expect(Buffer.from(await object!.arrayBuffer())).toEqual(Buffer.from(blocks[0]!.bytes));
    const [tableRows] = await db.select({ n: sql<number>`count(*)` }).from(schema.blocks);
    expect(tableRows?.n).toBe(0);
    const indexColumns = Object.keys((await db.select().from(schema.objectBlocks).limit(1))[0] ?? {});
    expect(indexColumns.sort()).toEqual(["createdAt", "hash", "size"]);
  });

  test("an indexed block whose object is gone is simply missing, not an error", async () => {
    const { bucket, db } = await workerdBindings();
    const store = createR2BlockStore({ bucket, db, paramLimit: 100 });
    const a = block();
    await store.put([a], 1000);
    await bucket.delete(blockKey(a.hash));
    expect(await store.get(a.hash)).toBeUndefined();
    expect(await store.getMany([a.hash])).toEqual(new Map());
  });

  test("keeps serving and collecting the blocks the older D1 table holds", async () => {
    const { bucket, db } = await workerdBindings();
    const previous = createTableBlockStore(db, 100);
    const inTable = block();
    await previous.put([inTable], 1000);
    const store = createR2BlockStore({ bucket, db, paramLimit: 100, previous });
    expect(await store.has([inTable.hash])).toEqual(new Set([inTable.hash]));
    expect(Buffer.from((await store.get(inTable.hash))!)).toEqual(Buffer.from(inTable.bytes));
    expect(Buffer.from((await store.getMany([inTable.hash])).get(inTable.hash)!)).toEqual(
      Buffer.from(inTable.bytes),
    );
    expect(await store.deleteUnreferenced(async () => new Set(), 2000)).toBe(1);
    expect(await previous.has([inTable.hash])).toEqual(new Set());
  });
});
