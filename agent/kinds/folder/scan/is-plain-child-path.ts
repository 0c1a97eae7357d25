// Tells, without normalizing the whole path, that a name read from an accepted directory is a share path as it is.
import {
  MAX_PATH_BYTES,
  MAX_SEGMENT_BYTES,
  RESERVED_SEGMENT_PREFIX,
} from "../../../../shared/paths/normalize-share-path.ts";

/** Printable ASCII but the backslash: NFC already, one UTF-8 byte per character. */
const PLAIN_NAME = /^[\x20-\x5b\x5d-\x7e]+$/;
/** A path this long (UTF-16 units) is within MAX_PATH_BYTES whatever it holds (at most 3 UTF-8 bytes per unit). */
const SURELY_SHORT = Math.floor(MAX_PATH_BYTES / 3);

/**
 * True when `dir/name` (`name` at the root) is a path normalizeSharePath would accept and return unchanged,
 * given that `dir` is itself a normalized share path and `name` came from reading it (one component, never "/").
 * False means "not known": ask normalizeSharePath, which also says why a name cannot be synced.
 */
export function isPlainChildPath(dir: string, name: string): boolean {
  return (
    PLAIN_NAME.test(name) &&
    name.length <= MAX_SEGMENT_BYTES &&
    (dir === "" ? 0 : dir.length + 1) + name.length <= SURELY_SHORT &&
    name !== "." &&
    name !== ".." &&
    !name.startsWith(RESERVED_SEGMENT_PREFIX) &&
    (dir !== "" || !/^[A-Za-z]:/.test(name))
  );
}
