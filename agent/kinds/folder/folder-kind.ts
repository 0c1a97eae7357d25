// The folder kind: a directory tree on this machine, confined to its root, with trash and a marker.
import type { KindDeps, ShareKind } from "../share-kind.ts";
import { executeOperations } from "./apply/execute-operations.ts";
import { PERMISSION_BITS } from "./apply/plan-operation.ts";
import { removeTempFiles } from "./apply/remove-temp-files.ts";
import { cleanTrash } from "./apply/trash.ts";
import { createNodeShareFs } from "./fs/node-share-fs.ts";
import type { ShareFs } from "./fs/share-fs.ts";
import { checkShareRoot } from "./fs/share-root.ts";
import { type ShareWatcher, watchShare } from "./fs/watch-share.ts";
import { compileIgnoreRules } from "./scan/ignore-rules.ts";
import { measureShare } from "./scan/measure-share.ts";
import { scanShare } from "./scan/scan-share.ts";

export type FolderSettings = {
  /** The share's root as configured (a symlinked root is resolved once, at the first prepare). */
  path: string;
  ignore: string[];
  /** Replicate setuid, setgid and sticky bits too (off: only permission bits, 0o777). */
  specialModeBits: boolean;
  retentionDays: number;
};

/** The root is usable only after a successful prepare(); before that every other call refuses. */
export function createFolderKind(settings: FolderSettings, deps: KindDeps): ShareKind {
  const { log } = deps;
  const isIgnored = compileIgnoreRules(settings.ignore);
  let root: string | undefined;
  let fs: ShareFs | undefined;
  let tempFilesChecked = false;
  /** The watcher, which watches each directory as a full scan lists it (no walk of its own at start). */
  let watcher: ShareWatcher | undefined;
  /** Whether a full scan ran to its end since the watcher started (so every directory is watched). */
  let watcherComplete = false;
  const usableRoot = () => {
    if (root === undefined) throw new Error(`share "${deps.shareName}": its root was not checked yet`);
    return root;
  };
  const usableFs = () => {
    usableRoot();
    return fs!;
  };

  return {
    kind: "folder",
    async prepare({ isFirstRun, role }) {
      const check = await checkShareRoot({
        share: deps.shareName,
        path: settings.path,
        resolved: root,
        isFirstRun,
        role,
      });
      if (!check.ok) return check;
      if (root !== check.root) fs = createNodeShareFs(check.root);
      root = check.root;
      if (role !== "source" && !tempFilesChecked) {
        // Left by an apply that was interrupted (a crash, a kill): never half a file in place, but litter.
        const removed = await removeTempFiles(usableFs());
        if (removed.length > 0)
          log.info("removed temp files left by an interrupted apply", { count: removed.length });
        tempFilesChecked = true;
      }
      return { ok: true };
    },
    async scan({ dirty, index, flush, onBlock }) {
      const w = watcher;
      // A scan of some paths only, before any full scan finished: the watcher walks the share itself first.
      if (w && !watcherComplete && !dirty.has("")) {
        w.walk();
        watcherComplete = true;
      }
      const onDirectory = w && ((dir: string) => w.add(dir));
      const result = await scanShare(usableFs(), index, dirty, isIgnored, log, {
        flush,
        onBlock,
        onDirectory,
      });
      if (w && w === watcher && dirty.has("")) watcherComplete = true;
      return result;
    },
    measure() {
      return measureShare(usableFs(), isIgnored, log);
    },
    async readBlock({ path, offset, length }) {
      const file = await usableFs().openRead(path);
      try {
        const buffer = new Uint8Array(length);
        const read = await file.read(buffer, 0, length, offset);
        return buffer.subarray(0, read);
      } finally {
        await file.close();
      }
    },
    async apply({ ops, index, fetchBlocks, onDone, deletes, localChange, dryRun, signal }) {
      return executeOperations(
        {
          fs: usableFs(),
          deletes,
          modeMask: settings.specialModeBits ? 0o7777 : PERMISSION_BITS,
          unreportedLocalChange: localChange,
          dryRun,
          index,
          fetchBlocks,
          onDone,
          log,
          signal,
        },
        ops,
      );
    },
    watch(onDirty) {
      // The session scans everything once the watcher is ready (watch first, scan second); that scan's listing of
      // each directory is the walk the watcher needs, so it does not walk the share a second time at start.
      const w = watchShare(usableRoot(), isIgnored, onDirty, log, { startWalk: false });
      watcher = w;
      watcherComplete = false;
      return {
        ready: w.ready,
        close: async () => {
          if (watcher === w) watcher = undefined;
          await w.close();
        },
      };
    },
    async maintain() {
      if (fs) await cleanTrash(fs, settings.retentionDays, Date.now());
    },
    async close() {},
  };
}
