// How the hub settles two versions of one path made without seeing each other: deterministic, and nothing is lost.
import { conflictName } from "../../shared/paths/conflict-name.ts";
import { type Entry, isSameEntry } from "../../shared/protocol/entry.ts";
import type { ConflictPolicy } from "../../shared/protocol/shares.ts";

/** One version of a path and the device that wrote it. */
export type Version = { entry: Entry; deviceId: string; deviceName: string };

/**
 * What to commit (copies first, then the path itself), and what to tell the reporter. `resend` marks the hub's
 * own version, committed again under a new sequence although unchanged: the reporter skipped it while its own
 * change was unreported, and must now receive it (everyone else finds it already in place).
 */
export type Resolution = {
  commit: { entry: Entry; deviceId: string; resend?: boolean }[];
  /** Which version holds the path now, and where the other one went (undefined: nowhere — it was a delete). */
  outcome: { winner: "reported" | "hub"; copy?: string; reason: string } | undefined;
};

/** The winner of two live versions: newer mtime, then the lower device id (any device computes the same). */
export function winnerOf(a: Version, b: Version): Version {
  if (a.entry.mtimeMs !== b.entry.mtimeMs) return a.entry.mtimeMs > b.entry.mtimeMs ? a : b;
  return a.deviceId <= b.deviceId ? a : b;
}

/**
 * `reported` was based on a version of its path other than `current`, the hub's. Modify beats delete; two
 * directories merge; a directory keeps its path against anything else (the other survives as a copy); otherwise
 * the winner (winnerOf) keeps the path, and the loser becomes a conflict copy (keep-both, and always for a type
 * clash) or is dropped (newest-wins: each device that held it keeps it in its trash when it is replaced).
 */
export function resolveConcurrent(options: {
  reported: Version;
  current: Version;
  policy: ConflictPolicy;
  nowMs: number;
  /** True when a live entry already holds this path (a copy name is then made unique). */
  isTaken: (path: string) => boolean;
}): Resolution {
  const { reported, current, policy, nowMs } = options;
  const r = reported.entry;
  const c = current.entry;
  if (isSameEntry(r, c)) return { commit: [], outcome: undefined };
  const path = r.path;
  const copyOf = (loser: Version) => {
    let name = conflictName(path, loser.deviceName, nowMs);
    for (let n = 2; options.isTaken(name); n++) name = conflictName(path, `${loser.deviceName}-${n}`, nowMs);
    return { entry: { ...loser.entry, path: name }, deviceId: loser.deviceId, path: name };
  };
  const keepHub = { entry: c, deviceId: current.deviceId, resend: true };
  if (r.type === "deleted") {
    return { commit: [keepHub], outcome: { winner: "hub", reason: "modify beats delete" } };
  }
  if (c.type === "deleted") {
    return {
      commit: [{ entry: r, deviceId: reported.deviceId }],
      outcome: { winner: "reported", reason: "modify beats delete" },
    };
  }
  if (r.type === "dir" && c.type === "dir") {
    return {
      commit: [{ entry: r, deviceId: reported.deviceId }],
      outcome: { winner: "reported", reason: "both are directories" },
    };
  }
  if (r.type === "dir" || c.type === "dir") {
    // A directory cannot become a copy without renaming all it holds: it keeps the path, the other is copied.
    const dirSide = r.type === "dir" ? reported : current;
    const other = dirSide === reported ? current : reported;
    const copy = copyOf(other);
    return {
      commit: [
        { entry: copy.entry, deviceId: copy.deviceId },
        dirSide === reported ? { entry: r, deviceId: reported.deviceId } : keepHub,
      ],
      outcome: {
        winner: dirSide === reported ? "reported" : "hub",
        copy: copy.path,
        reason: "a directory keeps its path",
      },
    };
  }
  const winner = winnerOf(reported, current);
  const loser = winner === reported ? current : reported;
  if (r.type === "file" && c.type === "file" && r.hash === c.hash) {
    // The same content written on both sides (two trees merged on joining): no conflict, the winner's metadata.
    return {
      commit: winner === reported ? [{ entry: r, deviceId: reported.deviceId }] : [],
      outcome: undefined,
    };
  }
  const keepBoth = policy === "keep-both" || r.type !== c.type;
  const atPath = winner === reported ? [{ entry: r, deviceId: reported.deviceId }] : [keepHub];
  if (!keepBoth) {
    return {
      commit: atPath,
      outcome: {
        winner: winner === reported ? "reported" : "hub",
        reason: "newest wins; the other is in trash where it was",
      },
    };
  }
  const copy = copyOf(loser);
  return {
    commit: [{ entry: copy.entry, deviceId: copy.deviceId }, ...atPath],
    outcome: {
      winner: winner === reported ? "reported" : "hub",
      copy: copy.path,
      reason:
        winner.entry.mtimeMs !== loser.entry.mtimeMs ? "newer modification time" : "same time; device order",
    },
  };
}
