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

export function compileIgnoreRules(patterns: string[]): IgnoreRules {
  const matcher = ignore().add([...DEFAULT_IGNORES, ...patterns]);
  return (path, isDir) => {
    if (path === SHARE_META_DIR || path.startsWith(`${SHARE_META_DIR}/`)) return true;
    const name = path.slice(path.lastIndexOf("/") + 1);
    if (isTempName(name)) return true;
    return matcher.ignores(isDir ? `${path}/` : path);
  };
}
