// Pack files on disk: their names, the crash recovery at open (cut torn tails, drop what the index does not hold), writes.
import { constants } from "node:fs";
import { type FileHandle, open, readdir, unlink } from "node:fs/promises";
import { eq, sql } from "drizzle-orm";
import type { Database } from "../db/database.ts";
import { packBlocks } from "../db/schema.ts";

const { O_NOFOLLOW, O_RDWR } = constants;
const PACK_NAME = /^(\d{8,})\.pack$/;
/** Buffers per writev call (Linux's IOV_MAX). */
const MAX_IOV = 1024;

export const packName = (id: number) => `${String(id).padStart(8, "0")}.pack`;

/**
 * Makes the packs and their index agree after whatever stopped the hub: a pack is cut to its last indexed byte (a
 * crash between a pack's fdatasync and the index commit leaves an unclaimed tail), a pack nothing is indexed in is
 * removed, and index rows past the end of their pack, or in a pack that is gone, are deleted, so nothing is claimed
 * that is not there. Returns each remaining pack's size.
 */
export async function recoverPacks(options: {
  dir: string;
  db: Database;
  pathOf: (id: number) => string;
}): Promise<Map<number, number>> {
  const { dir, db, pathOf } = options;
  const ends = await db
    .select({ pack: packBlocks.pack, end: sql<number>`max(${packBlocks.offset} + ${packBlocks.size})` })
    .from(packBlocks)
    .groupBy(packBlocks.pack);
  const indexedEnd = new Map(ends.map((r) => [r.pack, Number(r.end)]));
  const sizes = new Map<number, number>();
  let removed = false;
  for (const name of await readdir(dir)) {
    const match = PACK_NAME.exec(name);
    if (!match) continue;
    const id = Number(match[1]);
    const end = indexedEnd.get(id);
    if (end === undefined) {
      await unlink(pathOf(id));
      removed = true;
      continue;
    }
    const handle = await open(pathOf(id), O_RDWR | O_NOFOLLOW);
    try {
      const stats = await handle.stat();
      if (!stats.isFile()) throw new Error(`${pathOf(id)} is not a regular file; move it out of the way`);
      if (stats.size > end) {
        await handle.truncate(end);
        await handle.sync();
      } else if (stats.size < end) {
        await db.run(
          sql`delete from ${packBlocks} where ${packBlocks.pack} = ${id} and ${packBlocks.offset} + ${packBlocks.size} > ${stats.size}`,
        );
      }
      sizes.set(id, Math.min(stats.size, end));
    } finally {
      await handle.close();
    }
  }
  for (const id of indexedEnd.keys()) {
    if (!sizes.has(id)) await db.delete(packBlocks).where(eq(packBlocks.pack, id));
  }
  if (removed) await syncDir(dir);
  return sizes;
}

/** Writes all of `buffers` at `position`, in as few writev calls as the kernel allows. */
export async function writeAllAt(handle: FileHandle, buffers: Uint8Array[], position: number): Promise<void> {
  let pending = buffers.filter((b) => b.length > 0);
  let at = position;
  while (pending.length > 0) {
    const { bytesWritten } = await handle.writev(pending.slice(0, MAX_IOV), at);
    if (bytesWritten === 0) throw new Error("writing a pack file: the write made no progress");
    at += bytesWritten;
    let left = bytesWritten;
    let done = 0;
    while (done < pending.length && left >= pending[done]!.length) {
      left -= pending[done]!.length;
      done++;
    }
    pending = pending.slice(done);
    if (left > 0) pending[0] = pending[0]!.subarray(left);
  }
}

export async function syncDir(path: string): Promise<void> {
  const handle = await open(path, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
