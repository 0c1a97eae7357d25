// Removes temp files an interrupted apply left behind (our .fleetsync.*.tmp names only), before anything else runs.
import { opendir, rm } from "node:fs/promises";
import { join } from "node:path";
import { SHARE_META_DIR } from "../../shared/paths/normalize-share-path.ts";
import { isTempName } from "./temp-name.ts";

export async function removeTempFiles(root: string): Promise<string[]> {
  const removed: string[] = [];
  const stack = [root];
  while (stack.length > 0) {
    const dir = stack.pop()!;
    const handle = await opendir(dir).catch(() => undefined);
    if (!handle) continue;
    for await (const dirent of handle) {
      const abs = join(dir, dirent.name);
      if (dirent.isDirectory()) {
        if (!(dir === root && dirent.name === SHARE_META_DIR)) stack.push(abs);
      } else if (isTempName(dirent.name)) {
        await rm(abs, { force: true });
        removed.push(abs);
      }
    }
  }
  return removed;
}
