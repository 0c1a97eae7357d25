// The stores a hub kept blocks in before its current one: consulted (read, checked, collected) only if they hold any.
import { readdir } from "node:fs/promises";
import type { Database } from "../db/database.ts";
import { blocks } from "../db/schema.ts";
import type { BlockStore } from "../ports/block-store.ts";
import { createFileBlockStore } from "./file-block-store.ts";

/**
 * The file store on DATA/blocks (over the database table) when either holds blocks, else undefined: a hub that
 * never used them pays no stat per block looked up. Nothing writes to them once the pack store is in use, so one
 * look at start is enough.
 */
export async function openOlderBlockStores(options: {
  blocksDir: string;
  db: Database;
  table: BlockStore;
}): Promise<BlockStore | undefined> {
  const inTable = (await options.db.select({ hash: blocks.hash }).from(blocks).limit(1)).length > 0;
  const names = await readdir(options.blocksDir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return [] as string[];
    throw error;
  });
  const inFiles = names.some((name) => name !== "tmp");
  if (inFiles)
    return createFileBlockStore({ dir: options.blocksDir, ...(inTable ? { previous: options.table } : {}) });
  return inTable ? options.table : undefined;
}

/** Whether DATA/packs holds pack files (a hub that ran the pack store, now asked for the file store). */
export async function hasPackFiles(packsDir: string): Promise<boolean> {
  const names = await readdir(packsDir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return [] as string[];
    throw error;
  });
  return names.some((name) => name.endsWith(".pack"));
}
