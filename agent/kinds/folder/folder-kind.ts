// The folder kind: a directory tree on this machine, confined to its root, with trash and a marker.
import { join } from "node:path";
import type { KindDeps, ShareKind } from "../share-kind.ts";
import { applyInstruction, PERMISSION_BITS } from "./apply/apply-instruction.ts";
import { removeTempFiles } from "./apply/remove-temp-files.ts";
import { cleanTrash } from "./apply/trash.ts";
import { openNoFollow } from "./fs/open-no-follow.ts";
import { checkShareRoot } from "./fs/share-root.ts";
import { compileIgnoreRules } from "./scan/ignore-rules.ts";
import { scanShare } from "./scan/scan-share.ts";
import { watchShare } from "./watch-share.ts";

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
  let tempFilesChecked = false;
  const usableRoot = () => {
    if (root === undefined) throw new Error(`share "${deps.shareName}": its root was not checked yet`);
    return root;
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
      root = check.root;
      if (role !== "source" && !tempFilesChecked) {
        // Left by an apply that was interrupted (a crash, a kill): never half a file in place, but litter.
        const removed = await removeTempFiles(root);
        if (removed.length > 0)
          log.info("removed temp files left by an interrupted apply", { count: removed.length });
        tempFilesChecked = true;
      }
      return { ok: true };
    },
    scan({ dirty, index, flush }) {
      return scanShare(usableRoot(), index, dirty, isIgnored, log, { flush });
    },
    async readBlock({ path, offset, length }) {
      const handle = await openNoFollow(join(usableRoot(), path));
      try {
        const buffer = Buffer.allocUnsafe(length);
        const { bytesRead } = await handle.read(buffer, 0, length, offset);
        return buffer.subarray(0, bytesRead);
      } finally {
        await handle.close();
      }
    },
    async apply({ ops, index, fetchBlocks, deletes, dryRun, signal }) {
      const outcome = await applyInstruction(
        {
          root: usableRoot(),
          deletes,
          modeMask: settings.specialModeBits ? 0o7777 : PERMISSION_BITS,
          dryRun,
          index,
          fetchBlocks,
          log,
          signal,
        },
        { fromSeq: 0, toSeq: 0, ops },
      );
      return outcome.results;
    },
    watch(onDirty) {
      return watchShare(usableRoot(), isIgnored, onDirty, log);
    },
    async maintain() {
      if (root !== undefined) await cleanTrash(root, settings.retentionDays, Date.now());
    },
    async close() {},
  };
}
