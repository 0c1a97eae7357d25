// Reaches a path in a share through handles on its real parent directories (O_NOFOLLOW, one level at a time).
import { constants } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import { FleetsyncError } from "../../../../shared/errors/fleetsync-error.ts";

const { O_DIRECTORY, O_NOFOLLOW, O_RDONLY } = constants;
const DIR_FLAGS = O_RDONLY | O_DIRECTORY | O_NOFOLLOW;

/**
 * A share path resolved through an open handle on its parent directory. `abs` (`/proc/self/fd/N/name`) names the
 * same inode however the share is rearranged meanwhile: an ancestor swapped for a symlink cannot redirect a
 * write, rename or delete outside the share, because no ancestor is looked up by name again. Linux only.
 */
export type ConfinedPath = {
  /** Use this for every syscall on the path (lstat, open with O_NOFOLLOW, rename, symlink, mkdir). */
  abs: string;
  /** The parent directory, as the same kind of path (for fsync and siblings). */
  dir: string;
  close(): Promise<void>;
};

export type CreateParent = (rel: string, at: string) => Promise<void>;

/** A symlink or a file stands where a share path needs a directory. */
export class NotADirectoryError extends FleetsyncError {
  constructor(readonly path: string) {
    super(
      "invalid",
      `${path} is not a real directory (a symlink or a file is in its place); not looking through it`,
    );
  }
}

function fdPath(handle: FileHandle, name?: string): string {
  return name === undefined ? `/proc/self/fd/${handle.fd}` : `/proc/self/fd/${handle.fd}/${name}`;
}

/**
 * Opens `dir` (share-relative, "" for the root) one component at a time without following links. Where a
 * component is missing or is not a real directory, `create` (if given) makes it one — it gets the component's
 * share-relative path and its handle-relative path — otherwise NotADirectoryError is thrown.
 */
export async function openShareDir(root: string, dir: string, create?: CreateParent): Promise<FileHandle> {
  let handle = await open(root, DIR_FLAGS);
  let rel = "";
  try {
    for (const part of dir === "" ? [] : dir.split("/")) {
      rel = rel ? `${rel}/${part}` : part;
      const at = fdPath(handle, part);
      let next: FileHandle;
      try {
        next = await open(at, DIR_FLAGS);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== "ENOENT" && code !== "ENOTDIR" && code !== "ELOOP") throw error;
        if (!create) throw new NotADirectoryError(rel);
        await create(rel, at);
        next = await open(at, DIR_FLAGS);
      }
      await handle.close();
      handle = next;
    }
    return handle;
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/** Resolves `path` through handles on its parent directories (see ConfinedPath). */
export async function confinePath(root: string, path: string, create?: CreateParent): Promise<ConfinedPath> {
  const slash = path.lastIndexOf("/");
  const parent = await openShareDir(root, slash < 0 ? "" : path.slice(0, slash), create);
  return {
    abs: fdPath(parent, path.slice(slash + 1)),
    dir: fdPath(parent),
    close: () => parent.close(),
  };
}

/** Runs `act` on a confined path and always closes its handle. */
export async function withConfinedPath<T>(
  root: string,
  path: string,
  act: (at: ConfinedPath) => Promise<T>,
  create?: CreateParent,
): Promise<T> {
  const at = await confinePath(root, path, create);
  try {
    return await act(at);
  } finally {
    await at.close();
  }
}
