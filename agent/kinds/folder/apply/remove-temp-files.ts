// Removes temp files an interrupted apply left behind (our .fleetsync.*.tmp names only), before anything else runs.
import { SHARE_META_DIR } from "../../../../shared/paths/normalize-share-path.ts";
import { joinSharePath, type ShareFs } from "../fs/share-fs.ts";
import { isTempName } from "../fs/temp-name.ts";

/**
 * Walks the share through the confined filesystem (as the scan does), so a directory swapped for a symlink
 * meanwhile cannot lead the walk, and its deletions, outside the share. Returns share-relative paths.
 */
export async function removeTempFiles(fs: ShareFs): Promise<string[]> {
  const removed: string[] = [];
  const stack = [""];
  while (stack.length > 0) {
    const dir = stack.pop()!;
    const entries = await fs.list(dir).catch(() => []);
    for (const { name, stat } of entries) {
      const path = joinSharePath(dir, name);
      if (stat.type === "dir") {
        if (path !== SHARE_META_DIR) stack.push(path);
      } else if (isTempName(name)) {
        await fs.remove(path);
        removed.push(path);
      }
    }
  }
  return removed;
}
