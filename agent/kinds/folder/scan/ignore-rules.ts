// Which paths a share never syncs: its own .fleetsync/ folder, our temp files, editor and OS junk, and the user's gitignore patterns.
import ignore from "ignore";
import { SHARE_META_DIR } from "../../../../shared/paths/normalize-share-path.ts";
import { isTempName } from "../fs/temp-name.ts";

export type IgnoreRules = (path: string, isDir: boolean) => boolean;

/**
 * Editor swap and backup files and OS folder metadata, ignored in every share before the user's patterns, so
 * a user's negation re-includes one: `ignore: ["!.DS_Store"]`, or `["!*~"]` to sync backup files.
 */
export const DEFAULT_IGNORES = ["*.swp", "*.swo", "*~", ".DS_Store", "Thumbs.db"];

/**
 * How many paths one matcher answers before a fresh one replaces it. The `ignore` package caches the answer for
 * every path and parent it was asked about, for the matcher's life: a scan of 100,000 files left ~14 MiB in that
 * cache, and lookups in the huge object were 1.4-3x slower (100,000 paths). Siblings are asked in a row, so
 * a bounded life keeps what the cache is good for (a directory's answer for its children).
 */
const LOOKUPS_PER_MATCHER = 4096;

export function compileIgnoreRules(patterns: string[]): IgnoreRules {
  const rules = [...DEFAULT_IGNORES, ...patterns];
  let matcher = ignore().add(rules);
  let lookups = 0;
  return (path, isDir) => {
    if (path === SHARE_META_DIR || path.startsWith(`${SHARE_META_DIR}/`)) return true;
    const name = path.slice(path.lastIndexOf("/") + 1);
    if (isTempName(name)) return true;
    if (++lookups > LOOKUPS_PER_MATCHER) {
      matcher = ignore().add(rules);
      lookups = 1;
    }
    return matcher.ignores(isDir ? `${path}/` : path);
  };
}
