// The one owner of temp-file names in a share: `.fleetsync.<random>.tmp`, unpredictable, never a share path.
import { randomBytes } from "node:crypto";

export const TEMP_PREFIX = ".fleetsync.";
export const TEMP_SUFFIX = ".tmp";

/**
 * A fresh temp name. Random, so nobody can plant a symlink at the name a replica is about to open; the hub refuses
 * every share path segment starting with `.fleetsync`, so no reported entry can take this name either.
 */
export function newTempName(): string {
  return `${TEMP_PREFIX}${randomBytes(12).toString("hex")}${TEMP_SUFFIX}`;
}

export function isTempName(name: string): boolean {
  return name.startsWith(TEMP_PREFIX) && name.endsWith(TEMP_SUFFIX);
}
