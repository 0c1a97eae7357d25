// A file's block list as an edit of an earlier version's: runs copied from the base, new hashes in between.
import { z } from "zod";

const Hex64Schema = z.string().regex(/^[0-9a-f]{64}$/, "must be a lowercase hex SHA-256");

/** `[from, count]`: the base's blocks from..from+count-1 (with their lengths), in order. */
const CopyOpSchema = z.tuple([z.number().int().min(0), z.number().int().min(1)]);
/** New blocks; `lengths` exactly when the base has block lengths (content-defined chunks). */
const AddOpSchema = z.strictObject({
  add: z.array(Hex64Schema).min(1).max(100_000),
  lengths: z.array(z.number().int().min(1)).max(100_000).optional(),
});

export const BlockListDeltaSchema = z.strictObject({
  /** The content hash (entry `hash`) of the version this list is an edit of. */
  base: Hex64Schema,
  ops: z.array(z.union([CopyOpSchema, AddOpSchema])).max(100_000),
});
export type BlockListDelta = z.infer<typeof BlockListDeltaSchema>;

export type BlockList = { blocks: string[]; blockLengths?: number[] | undefined };

/** Lists shorter than this travel whole: a delta would save next to nothing. */
export const MIN_DELTA_BLOCKS = 16;

/**
 * The ops that turn `base` into `target`, or undefined when the whole list is as cheap (short lists, a change of
 * layout — fixed blocks to chunks or back — or an edit that kept little of the base).
 */
export function diffBlockLists(base: BlockList, target: BlockList): BlockListDelta["ops"] | undefined {
  if (target.blocks.length < MIN_DELTA_BLOCKS) return undefined;
  if ((base.blockLengths === undefined) !== (target.blockLengths === undefined)) return undefined;
  const first = new Map<string, number>();
  base.blocks.forEach((hash, i) => {
    if (!first.has(hash)) first.set(hash, i);
  });
  const lengthAt = (list: BlockList, i: number) => list.blockLengths?.[i] ?? 0;
  const ops: BlockListDelta["ops"] = [];
  let added: string[] = [];
  let addedLengths: number[] = [];
  let addedCount = 0;
  const flushAdded = () => {
    if (added.length === 0) return;
    ops.push(target.blockLengths ? { add: added, lengths: addedLengths } : { add: added });
    addedCount += added.length;
    added = [];
    addedLengths = [];
  };
  for (let i = 0; i < target.blocks.length; ) {
    const hash = target.blocks[i]!;
    const from = first.get(hash);
    if (from === undefined || lengthAt(base, from) !== lengthAt(target, i)) {
      added.push(hash);
      if (target.blockLengths) addedLengths.push(target.blockLengths[i]!);
      i++;
      continue;
    }
    let count = 1;
    while (
      i + count < target.blocks.length &&
      from + count < base.blocks.length &&
      base.blocks[from + count] === target.blocks[i + count] &&
      lengthAt(base, from + count) === lengthAt(target, i + count)
    )
      count++;
    flushAdded();
    ops.push([from, count]);
    i += count;
  }
  flushAdded();
  // Each copy costs about as much as a few hashes: past half the list in new blocks or runs, send it whole.
  return addedCount + ops.length * 0.25 <= target.blocks.length / 2 ? ops : undefined;
}

export type ExpandedBlockList = { ok: true; list: BlockList } | { ok: false; reason: string };

/** The list `ops` describe against `base` (the caller checks the result against the entry's content hash). */
export function applyBlockListDelta(base: BlockList, ops: BlockListDelta["ops"]): ExpandedBlockList {
  const hasLengths = base.blockLengths !== undefined;
  const blocks: string[] = [];
  const lengths: number[] = [];
  for (const [n, op] of ops.entries()) {
    if (Array.isArray(op)) {
      const [from, count] = op;
      if (from + count > base.blocks.length) {
        return {
          ok: false,
          reason: `op ${n} copies blocks ${from}..${from + count - 1} of a base that has ${base.blocks.length}`,
        };
      }
      for (let i = from; i < from + count; i++) {
        blocks.push(base.blocks[i]!);
        if (hasLengths) lengths.push(base.blockLengths![i]!);
      }
      continue;
    }
    if (hasLengths !== (op.lengths !== undefined) || (op.lengths && op.lengths.length !== op.add.length)) {
      return {
        ok: false,
        reason: hasLengths
          ? `op ${n} adds ${op.add.length} blocks with ${op.lengths?.length ?? "no"} lengths (the base has block lengths: one per block)`
          : `op ${n} adds block lengths to a base of fixed blocks`,
      };
    }
    // One by one: a spread of 100,000 arguments can overflow the stack.
    for (const hash of op.add) blocks.push(hash);
    for (const length of op.lengths ?? []) lengths.push(length);
  }
  return { ok: true, list: hasLengths ? { blocks, blockLengths: lengths } : { blocks } };
}
