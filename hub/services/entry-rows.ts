// Conversion between protocol entries and rows of the entries table.
import type { Entry, SequencedEntry } from "../../shared/protocol/entry.ts";
import type { entries } from "../db/schema.ts";

type EntryRow = typeof entries.$inferSelect;

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
    deviceId,
    updatedAt: nowMs,
  };
}
