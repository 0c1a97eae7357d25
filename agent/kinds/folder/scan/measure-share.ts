// What a full scan of a share will cover, counted without hashing: entries (files, directories, links) and file bytes.
import type { AgentLogger } from "../../../log/agent-logger.ts";
import { joinSharePath, type ShareFs } from "../fs/share-fs.ts";
import type { IgnoreRules } from "./ignore-rules.ts";

export async function measureShare(
  fs: ShareFs,
  isIgnored: IgnoreRules,
  log: AgentLogger,
): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  const stack = [""];
  while (stack.length > 0) {
    const dir = stack.pop()!;
    // A directory that cannot be read is the scan's to report; here it only counts as nothing.
    const entries = await fs.list(dir).catch((error: Error) => {
      log.debug("cannot read directory while measuring the share", { path: dir, error: error.message });
      return [];
    });
    for (const { name, stat } of entries) {
      const path = joinSharePath(dir, name);
      if (isIgnored(path, stat.type === "dir")) continue;
      if (stat.type === "dir") stack.push(path);
      if (stat.type === "file") bytes += stat.size;
      if (stat.type === "dir" || stat.type === "file" || stat.type === "symlink") files++;
    }
  }
  return { files, bytes };
}
