// The BlockStore in a libSQL/D1 table: the default with a remote database, which several hub processes share.
import { inArray, lt, sql } from "drizzle-orm";
import { chunkForParams, type Database } from "../db/database.ts";
import { blocks } from "../db/schema.ts";
import type { BlockStore } from "../ports/block-store.ts";

export function createTableBlockStore(db: Database, paramLimit: number): BlockStore {
  return {
    async has(hashes) {
      const found = new Set<string>();
      for (const chunk of chunkForParams([...new Set(hashes)], 1, paramLimit)) {
        const rows = await db.select({ hash: blocks.hash }).from(blocks).where(inArray(blocks.hash, chunk));
        for (const row of rows) found.add(row.hash);
      }
      return found;
    },
    async put(batch, nowMs) {
      if (batch.length === 0) return;
      const rows = batch.map(({ hash, bytes }) => ({
        hash,
        size: bytes.length,
        data: bytes,
        createdAt: nowMs,
      }));
      const [first, ...rest] = chunkForParams(rows, 4, paramLimit).map((chunk) =>
        db.insert(blocks).values(chunk).onConflictDoNothing(),
      );
      if (first) await db.batch([first, ...rest]);
    },
    async get(hash) {
      const rows = await db.select({ data: blocks.data }).from(blocks).where(sql`${blocks.hash} = ${hash}`);
      return rows[0]?.data;
    },
    async getMany(hashes) {
      const found = new Map<string, Uint8Array>();
      for (const chunk of chunkForParams([...new Set(hashes)], 1, paramLimit)) {
        const rows = await db
          .select({ hash: blocks.hash, data: blocks.data })
          .from(blocks)
          .where(inArray(blocks.hash, chunk));
        for (const row of rows) found.set(row.hash, row.data);
      }
      return found;
    },
    async deleteBlocks(hashes) {
      let deleted = 0;
      for (const chunk of chunkForParams([...new Set(hashes)], 1, paramLimit)) {
        const gone = await db
          .delete(blocks)
          .where(inArray(blocks.hash, chunk))
          .returning({ hash: blocks.hash });
        deleted += gone.length;
      }
      return deleted;
    },
    async deleteUnreferenced(referenced, olderThanMs) {
      const keep = await referenced();
      const candidates = await db
        .select({ hash: blocks.hash })
        .from(blocks)
        .where(lt(blocks.createdAt, olderThanMs));
      const doomed = candidates.map((c) => c.hash).filter((h) => !keep.has(h));
      for (const chunk of chunkForParams(doomed, 1, paramLimit)) {
        await db.delete(blocks).where(inArray(blocks.hash, chunk));
      }
      return doomed.length;
    },
  };
}
