// The pure half of applying: one hub operation + what is on disk + what the index knew + policy → what to do.
import type { SequencedEntry } from "../../../../shared/protocol/entry.ts";
import type { IndexEntry } from "../../../state/share-state.ts";
import type { FsStat } from "../fs/share-fs.ts";

/** Permission bits a replica writes by default: never setuid, setgid or sticky (a share may opt in to 0o7777). */
export const PERMISSION_BITS = 0o777;

/** What the executor found at an operation's path before deciding. */
export type LocalFacts = {
  /** lstat of the path; undefined when nothing is there. */
  stat: FsStat | undefined;
  /** An ancestor is missing or is not a real directory (a file, a symlink): the path cannot be reached as is. */
  blockedAncestor: boolean;
  /** The content hash of a local file (computed only when it could equal the operation's). */
  hash?: string;
  /** A local symlink's target. */
  target?: string;
};

export type ApplyPolicy = {
  deletes: "propagate" | "keep";
  /** Which mode bits of an operation are applied (PERMISSION_BITS unless the share opts in to special bits). */
  modeMask: number;
  /** A replica overwrites a local change (keeping it in trash); a peer reports it first and applies nothing. */
  unreportedLocalChange: "overwrite" | "report";
};

/** What is in the way of a new entry: nothing, a file (copied to trash, replaced atomically), anything else (moved). */
export type InTheWay = "nothing" | "file" | "other";

export type PlannedAction =
  | { action: "unchanged" }
  | { action: "metadata"; mode?: number; mtimeMs?: number }
  | { action: "create" | "update"; inTheWay: InTheWay; mode: number }
  | { action: "mkdir"; inTheWay: InTheWay; mode: number }
  | { action: "symlink"; inTheWay: InTheWay }
  | { action: "delete" }
  | { action: "skip"; reason: string }
  /** Not applied yet: a peer changed the path since its last report, reports that first, applies this later. */
  | { action: "defer"; reason: string };

/** Why a peer defers an operation (its own unreported change to the path goes to the hub first). */
export const DEFER_REASON = "changed here since the last report; reporting it first";

/** Directories and files in sequence order, then deletions deepest first (so renames can reuse local blocks). */
export function orderOperations(ops: SequencedEntry[]): SequencedEntry[] {
  const writes = ops.filter((op) => op.type !== "deleted").sort((a, b) => a.seq - b.seq);
  const deletes = ops
    .filter((op) => op.type === "deleted")
    .sort((a, b) => (a.path < b.path ? 1 : a.path > b.path ? -1 : 0));
  return [...writes, ...deletes];
}

/** True when the local entry is not what the index last recorded: someone changed it here, unreported. */
export function isUnreportedLocalChange(stat: FsStat | undefined, known: IndexEntry | undefined): boolean {
  if (!stat) return known !== undefined;
  if (!known || known.type !== stat.type) return true;
  if (stat.type === "file") {
    return stat.size !== known.size || stat.mtimeMs !== known.mtimeMs || stat.ino !== known.ino;
  }
  return stat.type === "dir" ? stat.mode !== known.mode : stat.ino !== known.ino;
}

function inTheWay(stat: FsStat | undefined): InTheWay {
  return !stat ? "nothing" : stat.type === "file" ? "file" : "other";
}

/**
 * Decides one operation. `expectedHash` is the content hash of a file operation's block list. The planner never
 * looks at the disk itself: the executor gathers the facts, so every branch here is tested by tables.
 */
export function planOperation(
  op: SequencedEntry,
  facts: LocalFacts,
  known: IndexEntry | undefined,
  policy: ApplyPolicy,
  expectedHash = "",
): PlannedAction {
  const { stat } = facts;
  if (op.type === "deleted") {
    if (policy.deletes === "keep") return { action: "skip", reason: "deletes: keep" };
    if (facts.blockedAncestor || !stat) return { action: "unchanged" };
    if (policy.unreportedLocalChange === "report" && isUnreportedLocalChange(stat, known)) {
      return { action: "defer", reason: DEFER_REASON };
    }
    return { action: "delete" };
  }
  const mode = op.mode & policy.modeMask;
  if (!facts.blockedAncestor) {
    const same = matches(op, facts, mode, expectedHash);
    if (same === "equal") return { action: "unchanged" };
    if (same === "metadata") {
      return {
        action: "metadata",
        ...(stat!.mode !== mode ? { mode } : {}),
        ...(op.type === "file" && stat!.mtimeMs !== op.mtimeMs ? { mtimeMs: op.mtimeMs } : {}),
      };
    }
    if (policy.unreportedLocalChange === "report" && stat && isUnreportedLocalChange(stat, known)) {
      return { action: "defer", reason: DEFER_REASON };
    }
  }
  const way = facts.blockedAncestor ? "nothing" : inTheWay(stat);
  switch (op.type) {
    case "file":
      return { action: stat && !facts.blockedAncestor ? "update" : "create", inTheWay: way, mode };
    case "dir":
      return { action: "mkdir", inTheWay: way, mode };
    case "symlink":
      return { action: "symlink", inTheWay: way };
  }
}

/** Whether what is there is the operation's entry already ("equal"), differs only in metadata, or not at all. */
function matches(
  op: SequencedEntry,
  facts: LocalFacts,
  mode: number,
  expectedHash: string,
): "equal" | "metadata" | "different" {
  const { stat } = facts;
  if (!stat || stat.type !== op.type) return "different";
  switch (op.type) {
    case "file":
      if (facts.hash !== expectedHash) return "different";
      return stat.mode === mode && stat.mtimeMs === op.mtimeMs ? "equal" : "metadata";
    case "dir":
      return stat.mode === mode ? "equal" : "metadata";
    case "symlink":
      return facts.target === (op.target ?? "") ? "equal" : "different";
    default:
      return "different";
  }
}
