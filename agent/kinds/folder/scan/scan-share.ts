// Finds what changed under some paths of a share: stat cache first, hashing only what moved, re-stat after hashing.
import { isSameOrBelow, normalizeSharePath } from "../../../../shared/paths/normalize-share-path.ts";
import type { AgentLogger } from "../../../log/agent-logger.ts";
import { CHANGED, IN_OVERLAY, type RowMarks } from "../../../state/compact-index.ts";
import { compactIndexBehind, indexPaths } from "../../../state/index-record.ts";
import type { IndexEntry } from "../../../state/share-state.ts";
import { type FsDirEntry, type FsStat, joinSharePath, type ShareFs } from "../fs/share-fs.ts";
import { hashFile } from "./hash-file.ts";
import type { IgnoreRules } from "./ignore-rules.ts";
import { isPlainChildPath } from "./is-plain-child-path.ts";

export type ScanOptions = {
  /**
   * Called with the changes found so far, so a large first scan is reported while the rest is still hashed. The scan
   * goes on hashing while a part is reported (one report at a time, in order); it returns once every flush settled.
   */
  flush?: (part: ScanResult) => Promise<void>;
  /** The size of a full part (the first parts are smaller, so the hub hears of the first files soon). */
  flushBytes?: number;
  flushEntries?: number;
  /** Each block of each file hashed, as it is hashed (see HashContentOptions.onBlock). */
  onBlock?: (hash: string, bytes: Uint8Array) => void | Promise<void>;
  /**
   * Called with each directory just before it is listed: the watcher watches it there (ShareWatcher.add), so a
   * change made after that is an event and one made before is in the listing, with no walk of its own.
   */
  onDirectory?: (dir: string) => void;
};
const DEFAULT_FLUSH_BYTES = 64 * 1024 * 1024;
const DEFAULT_FLUSH_ENTRIES = 2000;
/** The first part's size: each part after it doubles, up to the full size. */
const FIRST_FLUSH_BYTES = 4 * 1024 * 1024;
/** A scan of unchanged entries runs synchronously this long (in entries) before it lets timers and I/O run. */
const ENTRIES_PER_YIELD = 2000;
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

export type ScanResult = {
  /** New index state per path (undefined: gone). Includes refreshes that need no report. */
  updates: Map<string, IndexEntry | undefined>;
  /** Paths whose change other machines must hear about. */
  changed: Set<string>;
  /** Paths that changed while being hashed: scan them again later. */
  unstable: Set<string>;
  hashedBytes: number;
};

/**
 * Where a scan for a dirty path starts: the path itself, or its nearest ancestor whose every segment is a valid,
 * NFC share name. Reading that directory then renames NFD names to NFC and skips names that cannot be synced.
 */
export function scanRootFor(path: string): string {
  let good = "";
  for (const segment of path === "" ? [] : path.split("/")) {
    const candidate = good ? `${good}/${segment}` : segment;
    const check = normalizeSharePath(candidate);
    if (!check.ok || check.path !== candidate) return good;
    good = candidate;
  }
  return good;
}

/** Drops paths that lie below another path in the list ("" is the root and covers everything). */
export function collapsePaths(paths: Iterable<string>): string[] {
  const sorted = [...new Set(paths)].sort();
  const kept: string[] = [];
  for (const path of sorted) {
    if (!kept.some((k) => isSameOrBelow(path, k))) kept.push(path);
  }
  return kept;
}

function statEntry(st: FsStat): Pick<IndexEntry, "size" | "mtimeMs" | "ino" | "mode"> {
  return { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, mode: st.mode };
}

function isSameIndexEntry(a: IndexEntry | undefined, b: IndexEntry): boolean {
  if (!a || a.type !== b.type || a.mode !== b.mode) return false;
  if (b.type === "file") return a.hash === b.hash && a.mtimeMs === b.mtimeMs && a.size === b.size;
  if (b.type === "symlink") return a.target === b.target;
  return true;
}

export async function scanShare(
  given: ShareFs,
  index: Readonly<Record<string, IndexEntry>>,
  dirty: Iterable<string>,
  isIgnored: IgnoreRules,
  log: AgentLogger,
  options: ScanOptions = {},
): Promise<ScanResult> {
  // One scan keeps the directory handles it opens (each checked before use), as an apply does: a file's open and
  // re-stat then cost a check of its ancestors, not an open and close of every one (~20 % of a source's CPU).
  const kept = given.forRun?.();
  // Over a packed index, unchanged entries are marked seen by their row (kept right if a save re-packs it meanwhile).
  const compact = compactIndexBehind(index);
  const marks = compact?.markRows();
  try {
    return await scanWith(kept?.fs ?? given, index, dirty, isIgnored, log, options, marks);
  } finally {
    if (marks) compact!.releaseRows(marks);
    await kept?.close();
  }
}

async function scanWith(
  fs: ShareFs,
  index: Readonly<Record<string, IndexEntry>>,
  dirty: Iterable<string>,
  isIgnored: IgnoreRules,
  log: AgentLogger,
  options: ScanOptions,
  marks: RowMarks | undefined,
): Promise<ScanResult> {
  const result: ScanResult = { updates: new Map(), changed: new Set(), unstable: new Set(), hashedBytes: 0 };
  const seen = new Set<string>();
  const tops = collapsePaths([...dirty].map(scanRootFor));
  let changedBytes = 0;
  const fullBytes = options.flushBytes ?? DEFAULT_FLUSH_BYTES;
  let partBytes = Math.min(FIRST_FLUSH_BYTES, fullBytes);
  /** The part being reported while the scan goes on (its failure fails the scan at the next flush or the end). */
  let flushing: Promise<void> | undefined;
  /** Hands what was found so far to `options.flush` once it is big enough (deletions come only at the end). */
  const maybeFlush = async () => {
    const entries = options.flushEntries ?? DEFAULT_FLUSH_ENTRIES;
    if (!options.flush || (changedBytes < partBytes && result.changed.size < entries)) return;
    const part: ScanResult = { ...result, unstable: new Set() };
    result.updates = new Map();
    result.changed = new Set();
    result.hashedBytes = 0;
    changedBytes = 0;
    partBytes = Math.min(2 * partBytes, fullBytes);
    await flushing;
    flushing = options.flush(part);
    flushing.catch(() => {}); // awaited at the next flush or at the end; never left unhandled meanwhile
  };

  const record = (path: string, next: IndexEntry) => {
    seen.add(path);
    const previous = index[path];
    if (isSameIndexEntry(previous, next)) {
      if (previous?.ino !== next.ino) result.updates.set(path, next);
      return;
    }
    result.updates.set(path, next);
    result.changed.add(path);
    if (next.type === "file") changedBytes += next.size;
  };

  // A packed index answers "same type, size, mtime, inode and mode?" from its columns: no entry object is built,
  // and an unchanged packed entry is marked seen by its row, so its path string dies young (not kept in `seen`).
  const compact = marks && compactIndexBehind(index);
  /** Marks `path` seen (and returns true) when its entry is as `st` says; false: it changed, or is new. */
  const seenUnchanged = (path: string, st: FsStat): boolean => {
    const size = st.type === "file" ? st.size : 0;
    const mtimeMs = st.type === "file" ? st.mtimeMs : 0;
    if (compact) {
      const row = compact.unchangedRow(path, st.type as IndexEntry["type"], size, mtimeMs, st.ino, st.mode);
      if (row >= 0) marks!.rows[row] = 1;
      else if (row === IN_OVERLAY) seen.add(path);
      return row !== CHANGED;
    }
    const previous = index[path];
    if (
      previous === undefined ||
      previous.type !== st.type ||
      previous.size !== size ||
      previous.mtimeMs !== mtimeMs ||
      previous.ino !== st.ino ||
      previous.mode !== st.mode
    )
      return false;
    seen.add(path);
    return true;
  };
  const isChildIgnored =
    isIgnored.isChildIgnored ??
    ((dir: string, name: string, isDir: boolean) => isIgnored(joinSharePath(dir, name), isDir));

  const visitFile = async (path: string, st: FsStat) => {
    const stat = statEntry(st);
    if (seenUnchanged(path, st)) return;
    const previous = index[path];
    if (
      previous?.type === "file" &&
      previous.size === stat.size &&
      previous.mtimeMs === stat.mtimeMs &&
      previous.ino === stat.ino
    ) {
      record(path, { ...previous, mode: stat.mode });
      return;
    }
    const hashes = await hashFile(fs, path, st.size, options.onBlock).catch(() => undefined);
    if (!hashes) {
      // Gone, or turned into something else, since the directory was listed: the next scan sees what it is.
      result.unstable.add(path);
      seen.add(path);
      return;
    }
    result.hashedBytes += hashes.size;
    const after = await fs.stat(path).catch(() => undefined);
    if (!after || after.size !== st.size || after.mtimeMs !== stat.mtimeMs || hashes.size !== st.size) {
      log.debug("file changed during hashing; will rescan", { path });
      result.unstable.add(path);
      seen.add(path);
      return;
    }
    record(path, { type: "file", ...stat, ...hashes });
  };

  // Every path is reached through the confined filesystem (never by name through an ancestor that may have been
  // swapped for a symlink meanwhile), so nothing outside the share is ever read and reported.
  const stack: string[] = [];
  let sinceYield = 0;
  try {
    for (const top of tops) {
      // Under a symlinked ancestor the path is not in the share any more (its index entries count as deleted).
      const st = await fs.stat(top).catch(() => undefined);
      if (!st || (top !== "" && isIgnored(top, st.type === "dir"))) continue;
      await visit(top, st);
    }
    while (stack.length > 0) {
      const dir = stack.pop()!;
      let entries: FsDirEntry[];
      options.onDirectory?.(dir);
      try {
        entries = await fs.list(dir);
      } catch (error) {
        log.warn("cannot read directory; skipping it this scan", {
          path: dir,
          error: (error as Error).message,
        });
        markSubtreeSeen(dir);
        continue;
      }
      // A failed flush (the hub is unreachable) fails the whole scan: its paths are retried, never dropped.
      const childRow = compact?.childRows(dir);
      for (const entry of entries) {
        const { name, stat: st } = entry;
        // The common case, decided here without a promise or a joined path: a plain name, not ignored, its entry
        // as the index has it. A directory is still recorded and walked (visit); anything else takes visitChild.
        let isSeenFile =
          st.type === "file" && isPlainChildPath(dir, name) && !isChildIgnored(dir, name, false);
        if (isSeenFile && childRow) {
          const row = childRow(name, "file", st.size, st.mtimeMs, st.ino, st.mode);
          if (row >= 0) marks!.rows[row] = 1;
          else if (row === IN_OVERLAY) seen.add(joinSharePath(dir, name));
          else isSeenFile = false;
        } else if (isSeenFile) isSeenFile = seenUnchanged(joinSharePath(dir, name), st);
        if (!isSeenFile) {
          await visitChild(dir, entry);
          await maybeFlush();
        }
        if (++sinceYield >= ENTRIES_PER_YIELD) {
          sinceYield = 0;
          await yieldToEventLoop();
        }
      }
    }
  } catch (error) {
    // Nothing of this scan may still be reporting once it has failed (the caller retries it as a whole).
    await flushing?.catch(() => {});
    throw error;
  }
  await flushing;
  for (const path of compact ? compact.pathsExceptMarked(marks!) : indexPaths(index)) {
    if (!seen.has(path) && tops.some((top) => isSameOrBelow(path, top))) {
      result.updates.set(path, undefined);
      result.changed.add(path);
    }
  }
  return result;

  function markSubtreeSeen(dir: string) {
    for (const path of indexPaths(index)) if (isSameOrBelow(path, dir)) seen.add(path);
  }

  async function visitChild(dir: string, entry: FsDirEntry) {
    let st = entry.stat;
    const rawPath = joinSharePath(dir, entry.name);
    if (isChildIgnored(dir, entry.name, st.type === "dir")) return;
    const check = isPlainChildPath(dir, entry.name)
      ? ({ ok: true, path: rawPath } as const)
      : normalizeSharePath(rawPath);
    if (!check.ok) {
      log.warn("skipping a name that cannot be synced", { path: rawPath, reason: check.reason });
      return;
    }
    if (check.path !== rawPath) {
      // Store names in NFC, as Syncthing's auto-normalize does, so every machine agrees on one spelling.
      const to = joinSharePath(dir, entry.name.normalize("NFC"));
      if (!(await fs.stat(to).catch(() => undefined))) {
        await fs.rename(rawPath, to);
        log.info("renamed a non-NFC name to its NFC form", { path: check.path });
        const renamed = await fs.stat(to).catch(() => undefined);
        if (!renamed) return;
        st = renamed;
      } else {
        log.warn("skipping a non-NFC name whose NFC form also exists", { path: rawPath });
        return;
      }
    }
    await visit(check.path, st);
  }

  async function visit(path: string, st: FsStat) {
    if (st.type === "dir") {
      if (path !== "" && !seenUnchanged(path, st)) {
        const previous = index[path];
        record(path, {
          type: "dir",
          ...statEntry(st),
          size: 0,
          mtimeMs: 0,
          blockSize: previous?.blockSize ?? 131072,
          blocks: [],
          hash: "",
        });
      }
      stack.push(path);
    } else if (st.type === "file") {
      await visitFile(path, st);
    } else if (st.type === "symlink") {
      const target = await fs.readlink(path).catch(() => undefined);
      if (target === undefined) return;
      record(path, {
        type: "symlink",
        ...statEntry(st),
        size: 0,
        mtimeMs: 0,
        mode: 0,
        blockSize: 131072,
        blocks: [],
        hash: "",
        target,
      });
    }
  }
}
