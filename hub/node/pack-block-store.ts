// The Node hub's pack BlockStore: a put appends its new blocks to one pack file under DATA/packs, indexed in libSQL.
import { constants } from "node:fs";
import { type FileHandle, mkdir, open, unlink } from "node:fs/promises";
import { join } from "node:path";
import { and, eq, inArray, lt, sql } from "drizzle-orm";
import { chunkForParams, type Database } from "../db/database.ts";
import { packBlocks } from "../db/schema.ts";
import type { BlockStore } from "../ports/block-store.ts";
import { packName, recoverPacks, syncDir, writeAllAt } from "./pack-files.ts";
import { createPackHandles } from "./pack-handles.ts";
import { inSteps, type Location, readFully, toRuns } from "./pack-reads.ts";

const { O_CREAT, O_EXCL, O_NOFOLLOW, O_RDWR } = constants;
const MIB = 1024 * 1024;

/** A new pack is started once the current one has passed this size. */
export const DEFAULT_PACK_BYTES = 64 * MIB;
/** Read handles kept open on packs (64 of 64 MiB cover 4 GiB of blocks without an open). */
const MAX_OPEN_PACKS = 64;
/** Compaction moves live blocks in steps of about this size: one write, one fdatasync, one index commit each. */
const MOVE_STEP_BYTES = 8 * MIB;
/** Deletions come in bursts (one per acknowledgement, one per GC pass): compaction runs once, this long after. */
const COMPACT_DELAY_MS = 1000;

/** Where a block is: the index columns a read or a move needs. */
const LOCATION_COLUMNS = {
  hash: packBlocks.hash,
  pack: packBlocks.pack,
  offset: packBlocks.offset,
  size: packBlocks.size,
};

export type PackBlockStoreOptions = {
  /** Where the pack files live, e.g. DATA/packs. */
  dir: string;
  /** The hub's embedded database, which holds the index (pack_blocks). */
  db: Database;
  /** Bound parameters per statement. */
  paramLimit: number;
  /** Where blocks lived before (the file store, over the table): still read, checked and collected, never written. */
  previous?: BlockStore;
  /** Default DEFAULT_PACK_BYTES; tests pass a small one. */
  packBytes?: number;
  /** A compaction that ran in the background (after deletions) failed; it is tried again after the next ones. */
  onCompactionError?: (error: unknown) => void;
};

export type CompactionResult = { packsRemoved: number; blocksMoved: number; bytesFreed: number };

export type PackBlockStore = BlockStore & {
  /** Rewrites packs whose live blocks fell under half their size, and removes packs with none; serialized with puts. */
  compact(): Promise<CompactionResult>;
  /** Waits for the put or compaction in progress, then closes every pack handle. */
  close(): Promise<void>;
};

/**
 * A put costs one write, one fdatasync of the pack and one index commit, however many blocks it holds, and a read
 * is a pread on a cached handle. The order makes a crash harmless: bytes first, durable, then the index rows that
 * claim them, so the index never names a block whose bytes are not on disk; what a crash leaves past a pack's last
 * indexed byte is cut off at the next open. Bytes at an offset are never rewritten while the hub runs (a compacted
 * pack is unlinked and its blocks live on in a newer one), so a read racing a deletion or a compaction reads
 * either the right bytes or nothing.
 */
export async function createPackBlockStore(options: PackBlockStoreOptions): Promise<PackBlockStore> {
  const { dir, db, paramLimit, previous } = options;
  const packBytes = options.packBytes ?? DEFAULT_PACK_BYTES;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const pathOf = (id: number) => join(dir, packName(id));
  /** Every pack on disk and its size. */
  const packs = await recoverPacks({ dir, db, pathOf });
  let nextId = Math.max(0, ...packs.keys()) + 1;
  const handles = createPackHandles({ pathOf, maxOpen: MAX_OPEN_PACKS });
  /** The pack puts append to; none until the first put when the newest one is full (or there is none). */
  let current: { id: number; end: number; handle: FileHandle } | undefined;
  const newest = nextId - 1;
  const newestSize = packs.get(newest);
  if (newestSize !== undefined && newestSize < packBytes)
    current = { id: newest, end: newestSize, handle: await open(pathOf(newest), O_RDWR | O_NOFOLLOW) };

  // Puts and compactions run one at a time: each appends at the current pack's end.
  let tail: Promise<unknown> = Promise.resolve();
  const serial = <T>(work: () => Promise<T>): Promise<T> => {
    const run = tail.then(work);
    tail = run.catch(() => {});
    return run;
  };

  const sealCurrent = async () => {
    const sealed = current;
    current = undefined;
    await sealed?.handle.close();
  };

  const startPack = async () => {
    await sealCurrent();
    const id = nextId++;
    const handle = await open(pathOf(id), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
    packs.set(id, 0);
    // The new name is durable before any index row points into the file (an empty pack left by a failure here is
    // removed by the next compaction or open).
    try {
      await syncDir(dir);
    } catch (error) {
      await handle.close();
      throw error;
    }
    current = { id, end: 0, handle };
  };

  /** Appends blocks to the current pack (a new one past packBytes) with one write and one fdatasync. */
  const append = async (items: { hash: string; bytes: Uint8Array }[]): Promise<Location[]> => {
    if (!current || current.end >= packBytes) await startPack();
    const pack = current!;
    const start = pack.end;
    let offset = start;
    const placed = items.map(({ hash, bytes }) => {
      const location = { hash, pack: pack.id, offset, size: bytes.length };
      offset += bytes.length;
      return location;
    });
    pack.end = offset;
    packs.set(pack.id, offset);
    try {
      await writeAllAt(
        pack.handle,
        items.map((item) => item.bytes),
        start,
      );
      await pack.handle.datasync();
    } catch (error) {
      // Nothing is indexed past `start` (the index commit comes after): give back what landed (a full disk's
      // partial write). If even that fails, the pack is sealed and the next append starts a new one past it.
      await pack.handle.truncate(start).then(
        () => {
          pack.end = start;
          packs.set(pack.id, start);
        },
        () => sealCurrent(),
      );
      throw error;
    }
    return placed;
  };

  const indexed = async (hashes: string[]) => {
    const found = new Set<string>();
    for (const chunk of chunkForParams(hashes, 1, paramLimit)) {
      const rows = await db
        .select({ hash: packBlocks.hash })
        .from(packBlocks)
        .where(inArray(packBlocks.hash, chunk));
      for (const row of rows) found.add(row.hash);
    }
    return found;
  };

  const locate = async (hashes: string[]) => {
    const rows: Location[] = [];
    for (const chunk of chunkForParams(hashes, 1, paramLimit)) {
      rows.push(
        ...(await db.select(LOCATION_COLUMNS).from(packBlocks).where(inArray(packBlocks.hash, chunk))),
      );
    }
    return rows;
  };

  /** Reads the located blocks into `found`, one pread per run of neighbours; returns those whose pack is gone. */
  const readLocated = async (rows: Location[], found: Map<string, Uint8Array>): Promise<Location[]> => {
    const gone: Location[] = [];
    await Promise.all(
      toRuns(rows).map(async (run) => {
        const bytes = await handles.use(run.pack, (handle) =>
          readFully(handle, run.start, run.end - run.start),
        );
        if (!bytes) {
          gone.push(...run.rows);
          return;
        }
        for (const row of run.rows) {
          const from = row.offset - run.start;
          // A pack shorter than its index says: the block is missing, never served short.
          if (from + row.size <= bytes.length) found.set(row.hash, bytes.subarray(from, from + row.size));
        }
      }),
    );
    return gone;
  };

  const commit = async (statements: Parameters<Database["batch"]>[0][number][]) => {
    const [first, ...rest] = statements;
    if (first) await db.batch([first, ...rest]);
  };

  /** Moves pack `id`'s live blocks into the current pack; rows whose bytes are not there go from the index. */
  const moveLiveBlocks = async (id: number) => {
    const rows = await db
      .select(LOCATION_COLUMNS)
      .from(packBlocks)
      .where(eq(packBlocks.pack, id))
      .orderBy(packBlocks.offset);
    let moved = 0;
    let movedBytes = 0;
    for (const step of inSteps(rows, MOVE_STEP_BYTES)) {
      const found = new Map<string, Uint8Array>();
      await readLocated(step, found);
      const items = step.flatMap((row) => {
        const bytes = found.get(row.hash);
        return bytes ? [{ hash: row.hash, bytes }] : [];
      });
      if (items.length === 0) continue;
      const placed = await append(items);
      // `and pack = id`: a block deleted meanwhile stays deleted (its copy is dead bytes in the new pack).
      await commit(
        placed.map((p) =>
          db
            .update(packBlocks)
            .set({ pack: p.pack, offset: p.offset })
            .where(and(eq(packBlocks.hash, p.hash), eq(packBlocks.pack, id))),
        ),
      );
      moved += items.length;
      movedBytes += items.reduce((sum, item) => sum + item.bytes.length, 0);
    }
    await db.delete(packBlocks).where(eq(packBlocks.pack, id));
    return { moved, movedBytes };
  };

  const compactNow = async (): Promise<CompactionResult> => {
    const liveRows = await db
      .select({ pack: packBlocks.pack, bytes: sql<number>`sum(${packBlocks.size})` })
      .from(packBlocks)
      .groupBy(packBlocks.pack);
    const live = new Map(liveRows.map((r) => [r.pack, Number(r.bytes)]));
    const result: CompactionResult = { packsRemoved: 0, blocksMoved: 0, bytesFreed: 0 };
    for (const [id, size] of [...packs].sort((a, b) => a[0] - b[0])) {
      const liveBytes = live.get(id) ?? 0;
      if (id === current?.id && size === 0) continue;
      if (liveBytes > 0 && liveBytes * 2 >= size) continue;
      if (id === current?.id) await sealCurrent();
      const { moved, movedBytes } = await moveLiveBlocks(id);
      handles.retire(id);
      await unlink(pathOf(id)).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== "ENOENT") throw error;
      });
      packs.delete(id);
      result.packsRemoved++;
      result.blocksMoved += moved;
      result.bytesFreed += size - movedBytes;
    }
    if (result.packsRemoved > 0) await syncDir(dir);
    return result;
  };

  /** Puts waiting for the one in progress: they share the next write, fdatasync and index commit (group commit). */
  let waiting: {
    batch: { hash: string; bytes: Uint8Array }[];
    nowMs: number;
    resolve: () => void;
    reject: (error: unknown) => void;
  }[] = [];
  const writeWaiting = async () => {
    const group = waiting;
    waiting = [];
    try {
      const fresh = new Map<string, { bytes: Uint8Array; nowMs: number }>();
      for (const { batch, nowMs } of group) {
        for (const block of batch)
          if (!fresh.has(block.hash)) fresh.set(block.hash, { bytes: block.bytes, nowMs });
      }
      for (const hash of await indexed([...fresh.keys()])) fresh.delete(hash);
      if (previous && fresh.size > 0)
        for (const hash of await previous.has([...fresh.keys()])) fresh.delete(hash);
      if (fresh.size > 0) {
        const placed = await append([...fresh].map(([hash, { bytes }]) => ({ hash, bytes })));
        // Only now, with the bytes durable, does the index claim them.
        const rows = placed.map((p) => ({ ...p, createdAt: fresh.get(p.hash)!.nowMs }));
        await commit(
          chunkForParams(rows, 5, paramLimit).map((chunk) =>
            db.insert(packBlocks).values(chunk).onConflictDoNothing(),
          ),
        );
      }
      for (const put of group) put.resolve();
    } catch (error) {
      for (const put of group) put.reject(error);
    }
  };

  const getMany = async (hashes: string[]) => {
    const unique = [...new Set(hashes)];
    const found = new Map<string, Uint8Array>();
    const gone = await readLocated(await locate(unique), found);
    // A pack unlinked between the lookup and the read was compacted: its blocks are elsewhere now.
    if (gone.length > 0) await readLocated(await locate(gone.map((r) => r.hash)), found);
    if (previous && found.size < unique.length) {
      const older = await previous.getMany(unique.filter((h) => !found.has(h)));
      for (const [hash, bytes] of older) found.set(hash, bytes);
    }
    return found;
  };

  let compactTimer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;
  const scheduleCompaction = () => {
    if (compactTimer || closed) return;
    compactTimer = setTimeout(() => {
      compactTimer = undefined;
      serial(compactNow).catch((error) => options.onCompactionError?.(error));
    }, COMPACT_DELAY_MS);
    compactTimer.unref?.();
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

    put(batch, nowMs) {
      return new Promise<void>((resolve, reject) => {
        waiting.push({ batch, nowMs, resolve, reject });
        // The first to wait schedules the write that takes every put waiting by the time it runs.
        if (waiting.length === 1) void serial(writeWaiting);
      });
    },

    async get(hash) {
      return (await getMany([hash])).get(hash);
    },

    getMany,

    async deleteBlocks(hashes) {
      const unique = [...new Set(hashes)];
      let deleted = 0;
      for (const chunk of chunkForParams(unique, 1, paramLimit)) {
        const gone = await db
          .delete(packBlocks)
          .where(inArray(packBlocks.hash, chunk))
          .returning({ hash: packBlocks.hash });
        deleted += gone.length;
      }
      if (deleted > 0) scheduleCompaction();
      if (previous) deleted += await previous.deleteBlocks(unique);
      return deleted;
    },

    async deleteUnreferenced(referenced, olderThanMs) {
      const keep = await referenced();
      const candidates = await db
        .select({ hash: packBlocks.hash })
        .from(packBlocks)
        .where(lt(packBlocks.createdAt, olderThanMs));
      const doomed = candidates.map((c) => c.hash).filter((h) => !keep.has(h));
      for (const chunk of chunkForParams(doomed, 1, paramLimit)) {
        await db.delete(packBlocks).where(inArray(packBlocks.hash, chunk));
      }
      if (doomed.length > 0) scheduleCompaction();
      let deleted = doomed.length;
      if (previous) deleted += await previous.deleteUnreferenced(async () => keep, olderThanMs);
      return deleted;
    },

    compact: () => serial(compactNow),

    async close() {
      closed = true;
      clearTimeout(compactTimer);
      await serial(sealCurrent);
      await handles.close();
    },
  };
}
