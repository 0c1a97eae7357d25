// Turns an entry whose block list is a delta (`blocksFrom`) back into the whole entry, checked against its content hash.
import { applyBlockListDelta, type BlockList, type BlockListDelta } from "./block-list-delta.ts";
import { blockLayoutProblem } from "./block-spans.ts";
import { contentHash } from "./content-hash.ts";

/** The version a delta names as its base, as the expanding side holds it (its content hash and block list). */
export type DeltaBase = BlockList & { hash: string };

type DeltaEntry = {
  path: string;
  size: number;
  blockSize: number;
  hash: string;
  blocks: string[];
  blockLengths?: number[] | undefined;
  blocksFrom?: BlockListDelta | undefined;
};

export type ExpandedEntry<E> =
  | { ok: true; entry: Omit<E, "blocksFrom"> }
  /** `wrongBase`: the expanding side does not hold the base (a full list is the way on); otherwise the delta is bad. */
  | { ok: false; wrongBase: boolean; reason: string };

/**
 * The entry with its whole block list: `base` must be the version `blocksFrom.base` names, and the expanded list must
 * hash (with size and block size) to the entry's content hash, so whatever signed or reported that hash covers
 * exactly the list used. An entry without `blocksFrom` comes back as it is.
 */
export async function expandBlockList<E extends DeltaEntry>(
  entry: E,
  base: DeltaBase | undefined,
): Promise<ExpandedEntry<E>> {
  const { blocksFrom, ...rest } = entry;
  if (blocksFrom === undefined) return { ok: true, entry: rest };
  if (entry.blocks.length > 0 || entry.blockLengths !== undefined) {
    return {
      ok: false,
      wrongBase: false,
      reason: `entry "${entry.path}" has both a block list and blocksFrom; send one of them`,
    };
  }
  if (base === undefined || base.hash !== blocksFrom.base) {
    return {
      ok: false,
      wrongBase: true,
      reason: `entry "${entry.path}": blocksFrom names base ${blocksFrom.base.slice(0, 12)}…, but the version held here is ${base ? `${base.hash.slice(0, 12) || "not a file"}…` : "none"}; send the whole block list`,
    };
  }
  const expanded = applyBlockListDelta(base, blocksFrom.ops);
  if (!expanded.ok) {
    return { ok: false, wrongBase: false, reason: `entry "${entry.path}": blocksFrom ${expanded.reason}` };
  }
  const { blocks, blockLengths } = expanded.list;
  const whole = { ...rest, blocks, ...(blockLengths ? { blockLengths } : {}) };
  const problem = blockLayoutProblem(whole);
  if (problem)
    return { ok: false, wrongBase: false, reason: `entry "${entry.path}": blocksFrom gives ${problem}` };
  const hash = await contentHash(whole.size, whole.blockSize, blocks, blockLengths);
  if (hash !== entry.hash) {
    return {
      ok: false,
      wrongBase: false,
      reason: `entry "${entry.path}": the block list blocksFrom gives hashes to ${hash}, not the entry's hash ${entry.hash.slice(0, 64)}`,
    };
  }
  return { ok: true, entry: whole as Omit<E, "blocksFrom"> };
}
