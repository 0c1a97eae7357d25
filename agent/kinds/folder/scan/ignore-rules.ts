// Which paths a share never syncs: its own .fleetsync/ folder, our temp files, editor and OS junk, and the user's gitignore patterns.
import ignore from "ignore";
import { SHARE_META_DIR } from "../../../../shared/paths/normalize-share-path.ts";
import { isTempName } from "../fs/temp-name.ts";

export type IgnoreRules = ((path: string, isDir: boolean) => boolean) & {
  /**
   * The same answer for `dir/name`, for a walk that only goes into directories that are not ignored themselves
   * (`dir` is not). Cheaper when every rule matches by the last name alone; absent: ask with the joined path.
   */
  isChildIgnored?: (dir: string, name: string, isDir: boolean) => boolean;
};

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
  const isIgnored: IgnoreRules = (path, isDir) => {
    if (path === SHARE_META_DIR || path.startsWith(`${SHARE_META_DIR}/`)) return true;
    const name = path.slice(path.lastIndexOf("/") + 1);
    if (isTempName(name)) return true;
    if (++lookups > LOOKUPS_PER_MATCHER) {
      matcher = ignore().add(rules);
      lookups = 1;
    }
    return matcher.ignores(isDir ? `${path}/` : path);
  };
  const byName = compileNameRules(rules);
  if (byName) {
    // Below a directory that is not ignored, a rule without a slash sees the child's name only (gitignore matches
    // such a rule at any depth): one regular expression instead of the package's walk over the path's parents.
    isIgnored.isChildIgnored = (dir, name, isDir) =>
      (dir === "" && name === SHARE_META_DIR) || isTempName(name) || byName(name, isDir);
  }
  return isIgnored;
}

/** A rule `ignore` reads as a glob on the last name: `name`, `*suffix`, either with a trailing `/` (directories). */
const NAME_RULE = /^(\*?)([^*?[\]\\/!#\s]+)(\/?)$/;

/**
 * The rules as a test of a name alone, when each of them is a NAME_RULE, a blank line or a comment (no negation:
 * the first match decides); undefined otherwise. Case-insensitive, as the `ignore` package is by default.
 */
export function compileNameRules(rules: string[]): ((name: string, isDir: boolean) => boolean) | undefined {
  const any: string[] = [];
  const dirsOnly: string[] = [];
  for (const rule of rules) {
    if (rule.trim() === "" || rule.startsWith("#")) continue;
    const match = NAME_RULE.exec(rule);
    if (!match) return undefined;
    const [, star, body, slash] = match;
    const source = `${star ? "" : "^"}${body!.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`;
    (slash ? dirsOnly : any).push(source);
  }
  // "(?!)" never matches: a set without rules of that kind.
  const anyName = new RegExp(any.join("|") || "(?!)", "i");
  const dirName = new RegExp(dirsOnly.join("|") || "(?!)", "i");
  return (name, isDir) => anyName.test(name) || (isDir && dirName.test(name));
}
