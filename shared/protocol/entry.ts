// What one path in a share is: file, directory, symlink or tombstone, with its content as a block list.
import { z } from "zod";
import { BlockListDeltaSchema } from "../blocks/block-list-delta.ts";
import { MAX_BLOCK_BYTES, MIN_BLOCK_BYTES } from "../blocks/block-size.ts";
import { normalizeSharePath } from "../paths/normalize-share-path.ts";

export const HashSchema = z.string().regex(/^[0-9a-f]{64}$/, "must be a lowercase hex SHA-256");

export const SharePathSchema = z.string().transform((value, ctx) => {
  const check = normalizeSharePath(value);
  if (!check.ok) {
    ctx.addIssue({ code: "custom", message: `${check.reason}: ${JSON.stringify(value.slice(0, 200))}` });
    return z.NEVER;
  }
  return check.path;
});

export const ENTRY_TYPES = ["file", "dir", "symlink", "deleted"] as const;
export type EntryType = (typeof ENTRY_TYPES)[number];

export const EntrySchema = z.strictObject({
  path: SharePathSchema,
  type: z.enum(ENTRY_TYPES),
  size: z.number().int().min(0).default(0),
  mode: z.number().int().min(0).max(0o7777).default(0),
  mtimeMs: z.number().int().min(0).default(0),
  blockSize: z.number().int().min(MIN_BLOCK_BYTES).max(MAX_BLOCK_BYTES).default(MIN_BLOCK_BYTES),
  blocks: z.array(HashSchema).max(100_000).default([]),
  /**
   * Each block's length, for content-defined chunks (then blockSize is their upper bound). Absent: fixed blocks of
   * blockSize (small files, and every entry written before chunking existed).
   */
  blockLengths: z.array(z.number().int().min(1).max(MAX_BLOCK_BYTES)).max(100_000).optional(),
  target: z
    .string()
    .max(4096)
    .refine((t) => !t.includes("\0"), "symlink target contains NUL")
    .optional(),
  hash: z.string().max(64).default(""),
});
export type Entry = z.infer<typeof EntrySchema>;

/**
 * A file's block list (and lengths) as an edit of an earlier version of the same path, named by its content hash;
 * `blocks` is then empty and `blockLengths` absent. The receiving end expands it (expand-block-list.ts) and checks
 * the result against the entry's `hash`; a side that does not hold the base asks for the whole list instead.
 */
const blocksFrom = BlockListDeltaSchema.optional();

/**
 * An entry as a source or peer reports it. A peer adds the sequence of the version it last saw of that path
 * (`baseSeq`, 0 for a path it has never seen), so the hub can tell a change made on top of the current version from
 * a concurrent one. `blocksFrom` may stand for the block list when the hub's current version is its base.
 */
export const ReportedEntrySchema = EntrySchema.extend({
  baseSeq: z.number().int().min(0).optional(),
  blocksFrom,
});
export type ReportedEntry = z.infer<typeof ReportedEntrySchema>;

/**
 * A committed entry as the hub hands it out: the entry plus the sequence that last changed it. In an instruction,
 * `blocksFrom` may stand for the block list when the receiver's cursor says it holds the base version.
 */
export const SequencedEntrySchema = EntrySchema.extend({ seq: z.number().int().min(1), blocksFrom });
export type SequencedEntry = z.infer<typeof SequencedEntrySchema>;

/** True when two entries describe the same thing on disk (what replicas would need to change). */
export function isSameEntry(a: Entry, b: Entry): boolean {
  if (a.type !== b.type) return false;
  switch (a.type) {
    case "file":
      return a.hash === b.hash && a.mode === b.mode && a.mtimeMs === b.mtimeMs && a.size === b.size;
    case "dir":
      return a.mode === b.mode;
    case "symlink":
      return a.target === b.target;
    case "deleted":
      return true;
  }
}
