// The Node hub's default BlockStore: one content-addressed file per block under DATA/blocks, fsynced in batches.
import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { type FileHandle, mkdir, open, readdir, rename, rm, stat, unlink } from "node:fs/promises";
import { join } from "node:path";
import type { BlockStore } from "../ports/block-store.ts";

const { O_CREAT, O_EXCL, O_WRONLY } = constants;
/** How many files are stat-ed or written at once. */
const CONCURRENCY = 32;

export type FileBlockStoreOptions = {
  /** Where the blocks live, e.g. DATA/blocks. */
  dir: string;
  /**
   * The store blocks lived in before (the libSQL table): still read and checked, never written, so a hub that
   * switches stores keeps serving what it already had; its blocks go through GC like any other.
   */
  previous?: BlockStore;
};

async function inBatches<T>(items: T[], act: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += CONCURRENCY)
    await Promise.all(items.slice(i, i + CONCURRENCY).map(act));
}

/**
 * Blocks are immutable and named by their hash, so a write is "temp file, fsync, rename" and a block already
 * present is never written again. One put() fsyncs its files together and each touched directory once: a batch
 * of 8 MiB costs a handful of fsyncs, not one transaction that writes every byte twice (WAL, then database).
 */
export async function createFileBlockStore(options: FileBlockStoreOptions): Promise<BlockStore> {
  const { dir, previous } = options;
  const tempDir = join(dir, "tmp");
  await mkdir(tempDir, { recursive: true, mode: 0o700 });
  // Temp files are only ever left by a crash in the middle of a put; they are never a block.
  for (const name of await readdir(tempDir)) await rm(join(tempDir, name), { force: true });
  const pathOf = (hash: string) => join(dir, hash.slice(0, 2), hash);
  /** Prefix directories known to exist (created by this process, or found present): one mkdir each, not one per block. */
  const madeDirs = new Set<string>();
  const exists = (hash: string) =>
    stat(pathOf(hash)).then(
      () => true,
      () => false,
    );

  return {
    async has(hashes) {
      const found = new Set<string>();
      const unique = [...new Set(hashes)];
      await inBatches(unique, async (hash) => {
        if (await exists(hash)) found.add(hash);
      });
      if (previous && found.size < unique.length) {
        for (const hash of await previous.has(unique.filter((h) => !found.has(h)))) found.add(hash);
      }
      return found;
    },

    async put(blocks, nowMs) {
      const fresh = new Map<string, Uint8Array>();
      for (const block of blocks) fresh.set(block.hash, block.bytes);
      await inBatches([...fresh.keys()], async (hash) => {
        if (await exists(hash)) fresh.delete(hash);
      });
      if (fresh.size === 0) return;
      const written: { hash: string; temp: string; handle: FileHandle }[] = [];
      try {
        await inBatches([...fresh], async ([hash, bytes]) => {
          const temp = join(tempDir, `${hash}.${randomBytes(6).toString("hex")}`);
          const handle = await open(temp, O_WRONLY | O_CREAT | O_EXCL, 0o600);
          written.push({ hash, temp, handle });
          await handle.writeFile(bytes);
          const seconds = nowMs / 1000;
          await handle.utimes(seconds, seconds);
          await handle.sync();
        });
        const dirs = new Set<string>();
        const renamed = new Set<string>();
        await inBatches(written, async ({ hash, temp, handle }) => {
          await handle.close();
          const target = pathOf(hash);
          const parent = join(target, "..");
          if (!madeDirs.has(parent)) {
            await mkdir(parent, { recursive: true, mode: 0o700 });
            madeDirs.add(parent);
          }
          await rename(temp, target).catch(async (error: NodeJS.ErrnoException) => {
            if (error.code !== "ENOENT") throw error;
            // The prefix directory went away behind our back: make it again.
            await mkdir(parent, { recursive: true, mode: 0o700 });
            await rename(temp, target);
          });
          renamed.add(temp);
          dirs.add(parent);
        });
        written.splice(0, written.length, ...written.filter((w) => !renamed.has(w.temp)));
        await inBatches([...dirs], syncDir);
      } finally {
        for (const { temp, handle } of written) {
          await handle.close().catch(() => {});
          await rm(temp, { force: true });
        }
      }
    },

    async get(hash) {
      try {
        return await readBlockFile(pathOf(hash));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
        return previous?.get(hash);
      }
    },

    async getMany(hashes) {
      const found = new Map<string, Uint8Array>();
      const unique = [...new Set(hashes)];
      await inBatches(unique, async (hash) => {
        try {
          found.set(hash, await readBlockFile(pathOf(hash)));
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
        }
      });
      if (previous && found.size < unique.length) {
        const older = await previous.getMany(unique.filter((h) => !found.has(h)));
        for (const [hash, bytes] of older) found.set(hash, bytes);
      }
      return found;
    },

    async deleteBlocks(hashes) {
      let deleted = 0;
      await inBatches([...new Set(hashes)], async (hash) => {
        await unlink(pathOf(hash)).then(
          () => deleted++,
          (error: NodeJS.ErrnoException) => {
            if (error.code !== "ENOENT") throw error;
          },
        );
      });
      if (previous) deleted += await previous.deleteBlocks(hashes);
      return deleted;
    },

    async deleteUnreferenced(referenced, olderThanMs) {
      const keep = await referenced();
      let deleted = 0;
      for (const prefix of await readdir(dir)) {
        if (prefix === "tmp") continue;
        const names = await readdir(join(dir, prefix)).catch(() => [] as string[]);
        await inBatches(names, async (name) => {
          if (keep.has(name)) return;
          const path = join(dir, prefix, name);
          const st = await stat(path).catch(() => undefined);
          if (!st || st.mtimeMs >= olderThanMs) return;
          await unlink(path).catch(() => {});
          deleted++;
        });
      }
      if (previous) deleted += await previous.deleteUnreferenced(async () => keep, olderThanMs);
      return deleted;
    },
  };
}

/** Most blocks fit this (fixed blocks are 128 KiB): one read answers, with no fstat first. */
const FIRST_READ_BYTES = 256 * 1024;

/**
 * A block file's bytes: open, one read (a larger block reads on to its end), close. readFile() also fstat()s first;
 * serving a tree of small files, that is a quarter of the store's thread-pool round trips.
 */
async function readBlockFile(path: string): Promise<Uint8Array> {
  const handle = await open(path, "r");
  try {
    let buffer = Buffer.allocUnsafe(FIRST_READ_BYTES);
    let filled = 0;
    while (true) {
      const wanted = buffer.length - filled;
      const { bytesRead } = await handle.read(buffer, filled, wanted, filled);
      filled += bytesRead;
      // A regular file reads short only at its end.
      if (bytesRead < wanted) break;
      const grown = Buffer.allocUnsafe(buffer.length * 2);
      buffer.copy(grown, 0, 0, filled);
      buffer = grown;
    }
    // A copy of exactly the block, so a small block does not hold the whole read buffer while it is sent.
    return new Uint8Array(buffer.subarray(0, filled));
  } finally {
    await handle.close();
  }
}

async function syncDir(path: string): Promise<void> {
  const handle = await open(path, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
