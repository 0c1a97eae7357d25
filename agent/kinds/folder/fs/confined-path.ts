// Reaches a path in a share through handles on its real parent directories (O_NOFOLLOW, one level at a time).
import { closeSync, constants, lstatSync, openSync } from "node:fs";
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

/**
 * openShareDir without `create`, synchronously: the descriptor of `dir`, which the caller closes. For a walk that
 * lists many directories in a row, where a round trip through the thread pool per open cost more than the open.
 */
export function openShareDirSync(root: string, dir: string): number {
  let fd = openSync(root, DIR_FLAGS);
  let rel = "";
  try {
    for (const part of dir === "" ? [] : dir.split("/")) {
      rel = rel ? `${rel}/${part}` : part;
      let next: number;
      try {
        next = openSync(`/proc/self/fd/${fd}/${part}`, DIR_FLAGS);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === "ENOENT" || code === "ENOTDIR" || code === "ELOOP") throw new NotADirectoryError(rel);
        throw error;
      }
      closeSync(fd);
      fd = next;
    }
    return fd;
  } catch (error) {
    closeSync(fd);
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

/** A directory handle from openShareDir or KeptDirHandles; `release` closes it unless the cache keeps it. */
export type DirLease = { handle: FileHandle; release(): Promise<void> };

/** Directories kept open at most (each one file descriptor); past that, handles are opened and closed per call. */
const MAX_KEPT_DIRS = 256;

type KeptDir = { handle: FileHandle; dev: number; ino: number };

/**
 * Directory handles kept open across the calls of one run (an instruction applied), so a file's several calls do
 * not each open every ancestor again. Not less safe than opening each time: before a kept handle is used, its name
 * is lstat'ed through the (equally checked) parent handle, and it is used only if a real directory with the same
 * inode is still there; a moved, removed or swapped directory (a symlink in its place) is opened afresh, with the
 * same checks and errors as openShareDir. Handles are closed only by close(), never while a call may use them.
 */
export class KeptDirHandles {
  readonly #root: string;
  readonly #kept = new Map<string, Promise<KeptDir>>();
  readonly #opened: Promise<KeptDir>[] = [];

  constructor(root: string) {
    this.#root = root;
  }

  async open(dir: string, create?: CreateParent): Promise<DirLease> {
    const parts = dir === "" ? [] : dir.split("/");
    let parent = await this.#at("", undefined, create);
    for (let i = 0; i < parts.length; i++) {
      const rel = parts.slice(0, i + 1).join("/");
      if (!parent) {
        // Over the limit: the rest of the walk is opened and closed as openShareDir does.
        const handle = await openShareDir(this.#root, dir, create);
        return { handle, release: () => handle.close() };
      }
      parent = await this.#at(rel, parent, create);
    }
    if (!parent) {
      const handle = await openShareDir(this.#root, dir, create);
      return { handle, release: () => handle.close() };
    }
    return { handle: parent.handle, release: async () => {} };
  }

  /** The kept handle of `rel` (checked against what is at its name now), opened afresh where that changed. */
  async #at(rel: string, parent: KeptDir | undefined, create?: CreateParent): Promise<KeptDir | undefined> {
    const name = rel === "" ? this.#root : fdPath(parent!.handle, rel.slice(rel.lastIndexOf("/") + 1));
    const kept = this.#kept.get(rel);
    if (kept) {
      const dir = await kept.catch(() => undefined);
      const now = lstatSync(name, { throwIfNoEntry: false });
      if (dir && now?.isDirectory() && now.ino === dir.ino && now.dev === dir.dev) return dir;
      this.#kept.delete(rel);
    }
    if (this.#opened.length >= MAX_KEPT_DIRS) return undefined;
    const opening = this.#openOne(rel, name, create);
    this.#kept.set(rel, opening);
    this.#opened.push(opening);
    try {
      return await opening;
    } catch (error) {
      if (this.#kept.get(rel) === opening) this.#kept.delete(rel);
      throw error;
    }
  }

  async #openOne(rel: string, at: string, create?: CreateParent): Promise<KeptDir> {
    let handle: FileHandle;
    try {
      handle = await open(at, DIR_FLAGS);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (rel === "" || (code !== "ENOENT" && code !== "ENOTDIR" && code !== "ELOOP")) throw error;
      if (!create) throw new NotADirectoryError(rel);
      await create(rel, at);
      handle = await open(at, DIR_FLAGS);
    }
    const st = await handle.stat();
    return { handle, dev: st.dev, ino: st.ino };
  }

  /** Closes every handle this run opened (call once no call of the run is in flight). */
  async close(): Promise<void> {
    const opened = this.#opened.splice(0);
    this.#kept.clear();
    for (const opening of opened) {
      const dir = await opening.catch(() => undefined);
      await dir?.handle.close().catch(() => {});
    }
  }
}
