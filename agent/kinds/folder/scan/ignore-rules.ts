// Which paths a share never syncs: its own .fleetsync/ folder, our temp files, and the user's gitignore patterns.
import ignore from "ignore";
import { SHARE_META_DIR } from "../../../../shared/paths/normalize-share-path.ts";
import { isTempName } from "../fs/temp-name.ts";

export type IgnoreRules = (path: string, isDir: boolean) => boolean;

export function compileIgnoreRules(patterns: string[]): IgnoreRules {
  const matcher = ignore().add(patterns);
  return (path, isDir) => {
    if (path === SHARE_META_DIR || path.startsWith(`${SHARE_META_DIR}/`)) return true;
    const name = path.slice(path.lastIndexOf("/") + 1);
    if (isTempName(name)) return true;
    return patterns.length > 0 && matcher.ignores(isDir ? `${path}/` : path);
  };
}
