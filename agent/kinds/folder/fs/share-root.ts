// The share root's marker (<root>/.fleetsync/): proof that the right disk is mounted before anything is synced.
import { lstat, mkdir, realpath, stat } from "node:fs/promises";
import { join } from "node:path";
import { SHARE_META_DIR } from "../../../../shared/paths/normalize-share-path.ts";

export type RootCheck = { ok: true; root: string } | { ok: false; reason: string };

export type RootCheckOptions = {
  share: string;
  /** The root as configured (may be a symlink to the real folder, e.g. /etc/app -> /opt/app/etc). */
  path: string;
  /** The real path this session resolved the root to at start; later checks stay on it. */
  resolved?: string;
  /** True when this share has never synced here (no state): the marker may be created. */
  isFirstRun: boolean;
  /** A replica's missing root is created on its first run; a source's is refused (it would sync emptiness). */
  role: "source" | "replica" | "peer";
};

/**
 * A share that has synced before must still have its root and marker; a missing one means an unmounted disk
 * or a deleted folder, and syncing would turn it into a mass delete. A first run creates the marker.
 * The answer carries the root's real path: a symlinked root is resolved once, and everything stays below that.
 */
export async function checkShareRoot(options: RootCheckOptions): Promise<RootCheck> {
  const { share, path, isFirstRun } = options;
  if (path === "") {
    return { ok: false, reason: `share "${share}" has no path; set shares.${share}.path in agent.yaml` };
  }
  const where = options.resolved ?? path;
  // The configured path may be a symlink (followed once, at start); the resolved real path must stay a directory.
  let rootStat = await (options.resolved ? lstat(where) : stat(where)).catch(() => undefined);
  if (!rootStat && isFirstRun && options.resolved === undefined) {
    if (options.role === "source") {
      return {
        ok: false,
        reason: `share "${share}": root ${path} does not exist; a source shares an existing folder — create it or fix shares.${share}.path in agent.yaml`,
      };
    }
    await mkdir(path, { recursive: true, mode: 0o755 });
    rootStat = await stat(path).catch(() => undefined);
  }
  if (!rootStat) {
    return {
      ok: false,
      reason: `share "${share}": root ${where} is missing (disk not mounted?); not syncing it until it is back`,
    };
  }
  if (!rootStat.isDirectory())
    return { ok: false, reason: `share "${share}": root ${where} is not a directory` };
  const root = options.resolved ?? (await realpath(path));
  const marker = join(root, SHARE_META_DIR);
  const markerStat = await lstat(marker).catch(() => undefined);
  if (isFirstRun && !markerStat) {
    await mkdir(marker);
    return { ok: true, root };
  }
  if (!markerStat?.isDirectory()) {
    return {
      ok: false,
      reason: `share "${share}": ${marker} is missing, so ${root} may not be the disk that was synced (not mounted?); not syncing it until the marker is back (mkdir ${marker} if this is the right folder)`,
    };
  }
  return { ok: true, root };
}
