// The real path of a path that may not exist yet: realpath of its nearest existing ancestor plus the rest.
import { realpath } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";

/** Follows every symlink that exists today, so two spellings of one folder compare equal. */
export async function resolveRealPath(path: string): Promise<string> {
  const absolute = resolve(path);
  const missing: string[] = [];
  let current = absolute;
  for (;;) {
    try {
      return join(await realpath(current), ...missing.reverse());
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== "ENOENT" && code !== "ENOTDIR") throw error;
      const parent = dirname(current);
      if (parent === current) return absolute;
      missing.push(basename(current));
      current = parent;
    }
  }
}
