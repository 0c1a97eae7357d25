// Conversion between protocol entries and rows of the entries table.
import { z } from "zod";
import {
  type BlockListDelta,
  BlockListDeltaSchema,
  diffBlockLists,
} from "../../shared/blocks/block-list-delta.ts";
import type { Entry, SequencedEntry } from "../../shared/protocol/entry.ts";
import type { entries } from "../db/schema.ts";

type EntryRow = typeof entries.$inferSelect;

/** A version's block list as a delta against the file version it replaced, committed at `baseSeq`. */
export const StoredBlocksDeltaSchema = BlockListDeltaSchema.extend({ baseSeq: z.number().int().min(1) });
export type StoredBlocksDelta = BlockListDelta & { baseSeq: number };

export function rowToEntry(row: EntryRow): SequencedEntry {
  return {
    path: row.path,
    seq: row.seq,
    type: row.type,
    size: row.size,
    mode: row.mode,
    mtimeMs: row.mtimeMs,
    blockSize: row.blockSize,
    blocks: JSON.parse(row.blocks) as string[],
    ...(row.blockLengths === null ? {} : { blockLengths: JSON.parse(row.blockLengths) as number[] }),
    ...(row.target === null ? {} : { target: row.target }),
    hash: row.hash,
  };
}

export function entryToRow(entry: Entry, share: string, deviceId: string, nowMs: number) {
  return {
    share,
    path: entry.path,
    type: entry.type,
    size: entry.type === "file" ? entry.size : 0,
    mode: entry.mode,
    mtimeMs: entry.mtimeMs,
    blockSize: entry.blockSize,
    blocks: JSON.stringify(entry.type === "file" ? entry.blocks : []),
    blockLengths: entry.type === "file" && entry.blockLengths ? JSON.stringify(entry.blockLengths) : null,
    target: entry.type === "symlink" ? (entry.target ?? "") : null,
    hash: entry.type === "file" ? entry.hash : "",
    blocksDelta: null as string | null,
    deviceId,
    updatedAt: nowMs,
  };
}

/** A stored delta stays well inside D1's 2 MB per value (a list that changed this much travels whole anyway). */
const MAX_STORED_DELTA_CHARS = 256 * 1024;

/**
 * The `blocks_delta` column for `entry` replacing `previous` (committed at `previousSeq`): the delta when it is much
 * smaller than the whole list, else null.
 */
export function blocksDeltaColumn(
  entry: Entry,
  previous: Entry | undefined,
  previousSeq: number | undefined,
) {
  if (entry.type !== "file" || previous?.type !== "file" || previousSeq === undefined) return null;
  const ops = diffBlockLists(previous, entry);
  if (!ops) return null;
  const delta: StoredBlocksDelta = { base: previous.hash, baseSeq: previousSeq, ops };
  const text = JSON.stringify(delta);
  return text.length <= MAX_STORED_DELTA_CHARS ? text : null;
}

/** The row's stored delta, or undefined (none, or text this hub cannot read: the whole list is always right). */
export function rowBlocksDelta(row: EntryRow): StoredBlocksDelta | undefined {
  if (row.blocksDelta === null) return undefined;
  try {
    const parsed = StoredBlocksDeltaSchema.safeParse(JSON.parse(row.blocksDelta));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
