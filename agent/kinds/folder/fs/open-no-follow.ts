// Opens a path without following a symlink at its last component, so an act on the handle stays on that inode.
import { constants } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";

const { O_CREAT, O_DIRECTORY, O_EXCL, O_NOFOLLOW, O_RDONLY, O_WRONLY } = constants;

/** Opens an existing file or directory for reading; a symlink there fails with ELOOP instead of being followed. */
export function openNoFollow(path: string, options: { directory?: boolean } = {}): Promise<FileHandle> {
  return open(path, O_RDONLY | O_NOFOLLOW | (options.directory ? O_DIRECTORY : 0));
}

/** Creates a new file exclusively (EEXIST if anything, even a dangling symlink, is already at `path`). */
export function createExclusive(path: string, mode = 0o600): Promise<FileHandle> {
  return open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode);
}
