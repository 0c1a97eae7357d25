// Pure planning: which committed entries bring a member from its cursor towards the head, within limits.
import type { SequencedEntry } from "../../shared/protocol/entry.ts";

export type PlanInput = {
  /** Entries with seq > cursor and seq <= head, ascending by seq (possibly only the first part). */
  entries: SequencedEntry[];
  /** False when `entries` was cut short by a query limit: more entries lie beyond the last one. */
  complete: boolean;
  cursor: number;
  head: number;
  deletes: "propagate" | "keep";
  maxOps: number;
  maxBlockRefs: number;
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
    ops.push(entry);
  }
  const toSeq = cut || !input.complete ? lastSeq : input.head;
  return { fromSeq: input.cursor, toSeq: Math.max(toSeq, input.cursor), ops };
}
