// Removes temp files an interrupted apply left behind (our .fleetsync.*.tmp names only), before anything else runs.
import { opendir, rm } from "node:fs/promises";
import { SHARE_META_DIR } from "../../../../shared/paths/normalize-share-path.ts";
import { openShareDir } from "../fs/confined-path.ts";
import { isTempName } from "../fs/temp-name.ts";

/**
 * Walks the share through handles on its real directories (as the scan does), so a directory swapped for a
 * symlink meanwhile cannot lead the walk, and its deletions, outside the share. Returns share-relative paths.
 */
export async function removeTempFiles(root: string): Promise<string[]> {
  const removed: string[] = [];
  const stack = [""];
  while (stack.length > 0) {
    const dir = stack.pop()!;
    const handle = await openShareDir(root, dir).catch(() => undefined);
    if (!handle) continue;
    const base = `/proc/self/fd/${handle.fd}`;
    try {
      const entries = await opendir(base).catch(() => undefined);
      if (!entries) continue;
      for await (const dirent of entries) {
        const path = dir === "" ? dirent.name : `${dir}/${dirent.name}`;
        if (dirent.isDirectory()) {
          if (path !== SHARE_META_DIR) stack.push(path);
        } else if (isTempName(dirent.name)) {
          await rm(`${base}/${dirent.name}`, { force: true });
          removed.push(path);
        }
      }
    } finally {
      await handle.close();
    }
  }
  return removed;
}
