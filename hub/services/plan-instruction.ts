// Pure planning: which committed entries bring a member from its cursor towards the head, within limits.
import type { SequencedEntry } from "../../shared/protocol/entry.ts";
import type { StoredBlocksDelta } from "./entry-rows.ts";

/** A committed entry, with its block list as a delta against the version it replaced when the hub stored one. */
export type PlannedEntry = SequencedEntry & { blocksDelta?: StoredBlocksDelta | undefined };

export type PlanInput = {
  /** Entries with seq > cursor and seq <= head, ascending by seq (possibly only the first part). */
  entries: PlannedEntry[];
  /** False when `entries` was cut short by a query limit: more entries lie beyond the last one. */
  complete: boolean;
  cursor: number;
  head: number;
  deletes: "propagate" | "keep";
  maxOps: number;
  maxBlockRefs: number;
  /** The receiver expands deltas: a file whose replaced version it holds (by its cursor) travels as `blocksFrom`. */
  withDeltas?: boolean;
};

export type Plan = { fromSeq: number; toSeq: number; ops: SequencedEntry[] };

export function planInstruction(input: PlanInput): Plan {
  const ops: SequencedEntry[] = [];
  let blockRefs = 0;
  let lastSeq = input.cursor;
  let cut = false;
  for (const entry of input.entries) {
    if (entry.seq <= input.cursor || entry.seq > input.head) continue;
    const refs = entry.blocks.length;
    if (lastSeq > input.cursor && (ops.length >= input.maxOps || blockRefs + refs > input.maxBlockRefs)) {
      cut = true;
      break;
    }
    lastSeq = entry.seq;
    blockRefs += refs;
    if (entry.type === "deleted" && input.deletes === "keep") continue;
    ops.push(asOp(entry, input.withDeltas === true ? input.cursor : undefined));
  }
  const toSeq = cut || !input.complete ? lastSeq : input.head;
  return { fromSeq: input.cursor, toSeq: Math.max(toSeq, input.cursor), ops };
}

/**
 * The entry as an operation: with `blocksFrom` when the receiver at `cursor` holds the version it replaced (that
 * version was current from its baseSeq until this one, and the receiver applied everything up to its cursor).
 */
function asOp({ blocksDelta, ...entry }: PlannedEntry, cursor: number | undefined): SequencedEntry {
  if (cursor === undefined || blocksDelta === undefined || blocksDelta.baseSeq > cursor) return entry;
  const { blockLengths: _, ...rest } = entry;
  return { ...rest, blocks: [], blocksFrom: { base: blocksDelta.base, ops: blocksDelta.ops } };
}
