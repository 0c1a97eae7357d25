// The chokidar adapter: turns file-system events into share-relative paths, falling back to polling at the inotify limit.
import { basename, join, relative, sep } from "node:path";
import { type FSWatcher, watch } from "chokidar";
import type { AgentLogger } from "../../log/agent-logger.ts";
import type { IgnoreRules } from "./scan/ignore-rules.ts";

export type ShareWatcher = {
  /** Settles once the watcher sees every directory (chokidar's "ready"), or after READY_TIMEOUT_MS at worst. */
  ready: Promise<void>;
  close(): Promise<void>;
};

const READY_TIMEOUT_MS = 60_000;

export function watchShare(
  root: string,
  isIgnored: IgnoreRules,
  onPath: (path: string) => void,
  log: AgentLogger,
  options: { forcePolling?: boolean } = {},
): ShareWatcher {
  let watcher: FSWatcher;
  let closed = false;
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });
  const readyTimer = setTimeout(() => {
    log.warn(
      "the file watcher is slow to start; scanning anyway (the periodic rescan catches what it misses)",
      {
        root,
      },
    );
    markReady();
  }, READY_TIMEOUT_MS);
  void ready.then(() => clearTimeout(readyTimer));
  const toRelative = (abs: string) => relative(root, abs).split(sep).join("/");

  const start = (usePolling: boolean) => {
    watcher = watch(root, {
      ignoreInitial: true,
      followSymlinks: false,
      usePolling,
      interval: 1000,
      atomic: false,
      ignored: (abs: string, stats?: { isDirectory(): boolean }) => {
        const path = toRelative(abs);
        return path !== "" && !path.startsWith("..") && isIgnored(path, stats?.isDirectory() ?? false);
      },
    });
    watcher.once("ready", () => markReady());
    watcher.on("all", (_event, abs) => {
      const path = toRelative(abs);
      if (!path.startsWith("..")) onPath(path);
    });
    // chokidar drops some real changes: an append whose mtime was put back (it takes that for a read) and a
    // symlink replaced by a file. Raw events catch them; the scan's stat cache makes the duplicates cheap.
    watcher.on("raw", (_event, name, details) => {
      const watched = (details as { watchedPath?: string } | undefined)?.watchedPath;
      if (!watched) return;
      const abs =
        typeof name === "string" && name !== "" && basename(watched) !== name ? join(watched, name) : watched;
      const path = toRelative(abs);
      if (path !== "" && !path.startsWith("..") && !isIgnored(path, false)) onPath(path);
    });
    watcher.on("error", (error) => {
      const code = (error as NodeJS.ErrnoException).code;
      if ((code === "ENOSPC" || code === "EMFILE") && !usePolling && !closed) {
        log.warn(
          "inotify watch limit reached; falling back to polling for this share (raise it: sudo sysctl fs.inotify.max_user_watches=524288)",
          { root, code },
        );
        void watcher.close().then(() => {
          if (!closed) start(true);
        });
        onPath("");
        return;
      }
      log.warn("file watcher error; the periodic rescan will catch what it misses", {
        root,
        error: String(error),
      });
    });
  };
  start(options.forcePolling ?? false);
  return {
    ready,
    async close() {
      closed = true;
      markReady();
      await watcher.close();
    },
  };
}
