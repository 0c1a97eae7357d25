// Watches a share one directory at a time (one inotify watch per directory, no start-up walk of files, or none at all when the scan adds each directory); rescans periodically at the inotify limit.
import { type Dirent, type FSWatcher, lstatSync, readdirSync, watch } from "node:fs";
import { join } from "node:path";
import type { AgentLogger } from "../../../log/agent-logger.ts";
import type { IgnoreRules } from "../scan/ignore-rules.ts";

export type ShareWatcher = {
  /** Settles once every directory of the share is watched (or the watcher fell back to periodic rescans). */
  ready: Promise<void>;
  /**
   * Watches one directory (nothing below it), if it is not watched yet. For a scan that watches each directory just
   * before it lists it: a change made after that is an event, one made before it is in the listing.
   */
  add(dir: string): void;
  /** Watches every directory of the share not watched yet (what the watcher does at start unless told otherwise). */
  walk(): void;
  close(): Promise<void>;
};

export type WatchShareOptions = {
  /** How often the whole share is rescanned once inotify has run out of watches. */
  pollIntervalMs?: number;
  /**
   * Walk the share at start to watch every directory (default). Without it only `add` and `walk` watch the share's
   * existing directories, and directories made later (whose parent is watched) are watched as they appear.
   */
  startWalk?: boolean;
};

const DEFAULT_POLL_INTERVAL_MS = 5000;

/**
 * Calls `onPath` with the share-relative path of anything that may have changed ("" = rescan everything). Only
 * directories are watched: the kernel reports each change of a directory's children with the child's name, so
 * starting costs one readdir and one watch per directory, whatever the number of files. A new directory is watched
 * as soon as it appears (its contents are reported through the directory's own path); symlinks are never followed.
 */
export function watchShare(
  root: string,
  isIgnored: IgnoreRules,
  onPath: (path: string) => void,
  log: AgentLogger,
  options: WatchShareOptions = {},
): ShareWatcher {
  /** Share-relative directory → its watch. */
  const watched = new Map<string, FSWatcher>();
  let closed = false;
  let poll: ReturnType<typeof setInterval> | undefined;

  const stopWatching = (dir: string) => {
    for (const [path, watcher] of watched) {
      if (path === dir || dir === "" || path.startsWith(`${dir}/`)) {
        watcher.close();
        watched.delete(path);
      }
    }
  };

  const fallBackToPolling = (code: string) => {
    if (poll || closed) return;
    log.warn(
      "inotify watch limit reached; falling back to polling for this share, a rescan every few seconds (raise it: sudo sysctl fs.inotify.max_user_watches=524288)",
      { root, code, pollIntervalMs: options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS },
    );
    stopWatching("");
    poll = setInterval(() => onPath(""), options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS);
    onPath("");
  };

  const onEvent = (dir: string, event: string, name: string | Buffer | null) => {
    if (closed) return;
    if (name === null || name === "") {
      onPath(dir);
      return;
    }
    const path = dir === "" ? String(name) : `${dir}/${String(name)}`;
    if (event === "rename") {
      // Created, deleted or moved: a directory that moved away keeps its watch under its old name, so drop it; a
      // directory that appeared (made or moved in) is watched with everything below it.
      if (watched.has(path)) stopWatching(path);
      if (isRealDirectory(join(root, path)) && !isIgnored(path, true)) watchTree(path);
    }
    // Whether the name is a directory is known only where it was just looked at; the scan checks ignores again.
    if (!isIgnored(path, false)) onPath(path);
  };

  /** Watches `dir` (not below it) unless it is already; false when it could not be (gone, or the watch limit). */
  const watchOne = (dir: string): boolean => {
    if (closed || poll) return false;
    if (watched.has(dir)) return true;
    const abs = dir === "" ? root : join(root, dir);
    try {
      const watcher = watch(abs, { persistent: true }, (event, name) => onEvent(dir, event, name));
      watcher.on("error", (error) => {
        // The directory went away (its parent's event handles that) or the watch broke: rescan what it held.
        watcher.close();
        if (watched.get(dir) === watcher) watched.delete(dir);
        log.debug("a directory watch ended", { path: dir, error: String(error) });
        if (!closed) onPath(dir);
      });
      watched.set(dir, watcher);
      return true;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? "";
      if (code === "ENOSPC" || code === "EMFILE") fallBackToPolling(code);
      // Otherwise gone or unreadable since it was listed: the scan of its parent says what it is.
      return false;
    }
  };

  /** Watches `top` and every directory below it. */
  const watchTree = (top: string): void => {
    const stack = [top];
    while (stack.length > 0 && !closed && !poll) {
      const dir = stack.pop()!;
      if (!watchOne(dir)) continue;
      const abs = dir === "" ? root : join(root, dir);
      let entries: Dirent[];
      try {
        entries = readdirSync(abs, { withFileTypes: true });
      } catch {
        continue;
      }
      for (const entry of entries) {
        // withFileTypes reads the type from the directory itself: a symlink to a directory is a symlink here.
        if (!entry.isDirectory()) continue;
        const child = dir === "" ? entry.name : `${dir}/${entry.name}`;
        if (!isIgnored(child, true)) stack.push(child);
      }
    }
  };

  if (options.startWalk ?? true) watchTree("");
  return {
    ready: Promise.resolve(),
    add: (dir) => {
      watchOne(dir);
    },
    walk: () => watchTree(""),
    async close() {
      closed = true;
      if (poll) clearInterval(poll);
      stopWatching("");
    },
  };
}

function isRealDirectory(abs: string): boolean {
  try {
    return lstatSync(abs).isDirectory();
  } catch {
    return false;
  }
}
