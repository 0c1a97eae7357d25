// One path of a share as the agent last saw it: type, stat, blocks and content hash, the hub sequence it is.
import { z } from "zod";

export const IndexEntrySchema = z.object({
  type: z.enum(["file", "dir", "symlink"]),
  size: z.number(),
  mtimeMs: z.number(),
  ino: z.number(),
  mode: z.number(),
  blockSize: z.number(),
  blocks: z.array(z.string()),
  /** Content-defined chunks' lengths (absent: fixed blocks of blockSize, as every entry before chunking). */
  blockLengths: z.array(z.number()).optional(),
  hash: z.string(),
  target: z.string().optional(),
  /** The hub's sequence of the version this entry is (what a peer names as the base of its next change). */
  seq: z.number().int().min(0).optional(),
});
export type IndexEntry = z.infer<typeof IndexEntrySchema>;
