// The share root's marker (<root>/.fleetsync/): proof that the right disk is mounted before anything is synced.
import { lstat, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { SHARE_META_DIR } from "../../shared/paths/normalize-share-path.ts";

export type RootCheck = { ok: true } | { ok: false; reason: string };

/**
 * A share that has synced before must still have its root and marker; a missing one means an unmounted disk
 * or a deleted folder, and syncing would turn it into a mass delete. A first run creates both.
 */
export async function checkShareRoot(share: string, root: string, isFirstRun: boolean): Promise<RootCheck> {
  if (root === "") {
    return { ok: false, reason: `share "${share}" has no path; set shares.${share}.path in agent.yaml` };
  }
  const rootStat = await lstat(root).catch(() => undefined);
  const marker = join(root, SHARE_META_DIR);
  if (isFirstRun) {
    if (rootStat && !rootStat.isDirectory())
      return { ok: false, reason: `share "${share}": root ${root} is not a directory` };
    await mkdir(marker, { recursive: true });
    return { ok: true };
  }
  if (!rootStat) {
    return {
      ok: false,
      reason: `share "${share}": root ${root} is missing (disk not mounted?); not syncing it until it is back`,
    };
  }
  if (!rootStat.isDirectory())
    return { ok: false, reason: `share "${share}": root ${root} is not a directory` };
  const markerStat = await lstat(marker).catch(() => undefined);
  if (!markerStat?.isDirectory()) {
    return {
      ok: false,
      reason: `share "${share}": ${marker} is missing, so ${root} may not be the disk that was synced (not mounted?); not syncing it until the marker is back (mkdir ${marker} if this is the right folder)`,
    };
  }
  return { ok: true };
}
