// Operations a peer deferred because it had changed the path itself, unreported (see ShareState.deferred).
import type { SequencedEntry } from "../../shared/protocol/entry.ts";
import type { OperationResult } from "../../shared/protocol/messages.ts";

export type DeferredOps = Record<string, SequencedEntry>;

/** After applying `ops`: remembers each one the kind deferred, and forgets a deferred one its path has moved past. */
export function recordDeferred(
  deferred: DeferredOps,
  ops: SequencedEntry[],
  results: OperationResult[],
): void {
  const bySeq = new Map(ops.map((op) => [op.seq, op]));
  for (const result of results) {
    const op = bySeq.get(result.seq);
    if (!op || op.path !== result.path) continue;
    const earlier = deferred[op.path];
    if (result.ok && result.action === "defer") {
      if (!earlier || earlier.seq <= op.seq) deferred[op.path] = op;
    } else if (result.ok && earlier && earlier.seq <= op.seq) {
      delete deferred[op.path];
    }
  }
}

/** The hub now has this device's version of each path: it settles it against the deferred one. */
export function settleReported(deferred: DeferredOps, paths: Iterable<string>): void {
  for (const path of paths) delete deferred[path];
}

/** The deferred operations, oldest first, to try again. */
export function deferredOps(deferred: DeferredOps): SequencedEntry[] {
  return Object.values(deferred).sort((a, b) => a.seq - b.seq);
}
