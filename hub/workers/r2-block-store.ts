// The Workers BlockStore: block bytes as R2 objects, and in D1 only the index of which blocks exist (never a byte).
import { inArray, lt } from "drizzle-orm";
import { chunkForParams, type Database } from "../db/database.ts";
import { objectBlocks } from "../db/schema.ts";
import type { BlockStore } from "../ports/block-store.ts";

/** The part of an R2 bucket binding the store uses (R2Bucket from @cloudflare/workers-types fits it). */
export interface ObjectBucket {
  put(key: string, value: ArrayBuffer | Uint8Array): Promise<unknown>;
  get(key: string): Promise<{ arrayBuffer(): Promise<ArrayBuffer> } | null>;
  delete(keys: string | string[]): Promise<void>;
}

export type R2BlockStoreOptions = {
  bucket: ObjectBucket;
  db: Database;
  /** Bound parameters per D1 statement (100). */
  paramLimit: number;
  /** Where blocks lived before (the D1 table): still read, checked and collected, never written. */
  previous?: BlockStore;
};

/** Objects written or read at once; every call counts against a Worker invocation's subrequest budget. */
const CONCURRENCY = 16;
/** R2 deletes at most this many keys per call. */
const DELETE_BATCH = 1000;

export const blockKey = (hash: string) => `blocks/${hash}`;

async function inBatches<T>(items: T[], act: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += CONCURRENCY)
    await Promise.all(items.slice(i, i + CONCURRENCY).map(act));
}

/**
 * A put writes the objects first and indexes them after, in one D1 batch: a crash in between leaves objects
 * nobody indexed (rewritten by the next upload of the same block, never served as present), not an index
 * entry without its object.
 */
export function createR2BlockStore(options: R2BlockStoreOptions): BlockStore {
  const { bucket, db, paramLimit, previous } = options;

  const indexed = async (hashes: string[]) => {
    const found = new Set<string>();
    for (const chunk of chunkForParams([...new Set(hashes)], 1, paramLimit)) {
      const rows = await db
        .select({ hash: objectBlocks.hash })
        .from(objectBlocks)
        .where(inArray(objectBlocks.hash, chunk));
      for (const row of rows) found.add(row.hash);
    }
    return found;
  };

  return {
    async has(hashes) {
      const unique = [...new Set(hashes)];
      const found = await indexed(unique);
      if (previous && found.size < unique.length) {
        for (const hash of await previous.has(unique.filter((h) => !found.has(h)))) found.add(hash);
      }
      return found;
    },

    async put(batch, nowMs) {
      const fresh = new Map<string, Uint8Array>();
      for (const block of batch) fresh.set(block.hash, block.bytes);
      for (const hash of await indexed([...fresh.keys()])) fresh.delete(hash);
      if (fresh.size === 0) return;
      await inBatches([...fresh], async ([hash, bytes]) => {
        await bucket.put(blockKey(hash), bytes);
      });
      const rows = [...fresh].map(([hash, bytes]) => ({ hash, size: bytes.length, createdAt: nowMs }));
      const [first, ...rest] = chunkForParams(rows, 3, paramLimit).map((chunk) =>
        db.insert(objectBlocks).values(chunk).onConflictDoNothing(),
      );
      if (first) await db.batch([first, ...rest]);
    },

    async get(hash) {
      const object = await bucket.get(blockKey(hash));
      if (object) return new Uint8Array(await object.arrayBuffer());
      return previous?.get(hash);
    },

    /** R2 has no multi-object read: one round of parallel gets (CONCURRENCY at a time), the older table in one query. */
    async getMany(hashes) {
      const found = new Map<string, Uint8Array>();
      const unique = [...new Set(hashes)];
      await inBatches(unique, async (hash) => {
        const object = await bucket.get(blockKey(hash));
        if (object) found.set(hash, new Uint8Array(await object.arrayBuffer()));
      });
      if (previous && found.size < unique.length) {
        const older = await previous.getMany(unique.filter((h) => !found.has(h)));
        for (const [hash, bytes] of older) found.set(hash, bytes);
      }
      return found;
    },

    async deleteBlocks(hashes) {
      const doomed = [...(await indexed(hashes))];
      // The index goes first: a block it no longer names is absent even if deleting its object fails.
      for (const chunk of chunkForParams(doomed, 1, paramLimit)) {
        await db.delete(objectBlocks).where(inArray(objectBlocks.hash, chunk));
      }
      for (let i = 0; i < doomed.length; i += DELETE_BATCH) {
        await bucket.delete(doomed.slice(i, i + DELETE_BATCH).map(blockKey));
      }
      let deleted = doomed.length;
      if (previous) deleted += await previous.deleteBlocks(hashes);
      return deleted;
    },

    async deleteUnreferenced(referenced, olderThanMs) {
      const keep = await referenced();
      const candidates = await db
        .select({ hash: objectBlocks.hash })
        .from(objectBlocks)
        .where(lt(objectBlocks.createdAt, olderThanMs));
      const doomed = candidates.map((c) => c.hash).filter((h) => !keep.has(h));
      // The index goes first: a block it no longer names is absent even if deleting its object fails.
      for (const chunk of chunkForParams(doomed, 1, paramLimit)) {
        await db.delete(objectBlocks).where(inArray(objectBlocks.hash, chunk));
      }
      for (let i = 0; i < doomed.length; i += DELETE_BATCH) {
        await bucket.delete(doomed.slice(i, i + DELETE_BATCH).map(blockKey));
      }
      let deleted = doomed.length;
      if (previous) deleted += await previous.deleteUnreferenced(async () => keep, olderThanMs);
      return deleted;
    },
  };
}
