// An instruction's operations with every block-list delta expanded against this device's index, checked by hash.
import { expandBlockList } from "../../shared/blocks/expand-block-list.ts";
import type { SequencedEntry } from "../../shared/protocol/entry.ts";
import type { IndexEntry } from "../state/share-state.ts";

export type ExpandedOps =
  | { ok: true; ops: SequencedEntry[] }
  /** `wrongBase`: this device does not hold a version a delta is based on (ask for whole lists); else the delta is bad. */
  | { ok: false; wrongBase: boolean; reason: string };

/**
 * Whole operations for the session: `blocksFrom` is expanded against the indexed version of its path, and the list
 * must hash to the op's signed content hash, so the signature covers exactly what is applied.
 */
export async function expandInstructionOps(
  ops: SequencedEntry[],
  index: Record<string, IndexEntry>,
): Promise<ExpandedOps> {
  if (!ops.some((op) => op.blocksFrom !== undefined)) return { ok: true, ops };
  const whole: SequencedEntry[] = [];
  for (const op of ops) {
    if (op.blocksFrom === undefined) {
      whole.push(op);
      continue;
    }
    const held = index[op.path];
    const expanded = await expandBlockList(op, held?.type === "file" ? held : undefined);
    if (!expanded.ok) return expanded;
    whole.push(expanded.entry);
  }
  return { ok: true, ops: whole };
}
