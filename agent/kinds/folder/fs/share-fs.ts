// The filesystem port of the folder kind: every read and write of a share's files, by share-relative path.
import { FleetsyncError } from "../../../../shared/errors/fleetsync-error.ts";

export type FsEntryType = "file" | "dir" | "symlink" | "other";

/** What lstat says (never follows a symlink). `mtimeMs` is floored to whole milliseconds. */
export type FsStat = { type: FsEntryType; size: number; mtimeMs: number; ino: number; mode: number };

export type FsDirEntry = { name: string; stat: FsStat };

export type ReadableFile = {
  /** Reads up to `length` bytes at `position` into `buffer` at `offset`; 0 at the end. */
  read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<number>;
  stat(): Promise<FsStat>;
  close(): Promise<void>;
};

export type WritableFile = {
  write(bytes: Uint8Array, position: number): Promise<void>;
  /** Flushes the content to stable storage. */
  sync(): Promise<void>;
  setMode(mode: number): Promise<void>;
  setMtime(ms: number): Promise<void>;
  close(): Promise<void>;
};

/**
 * A share's files, addressed by share-relative paths ("" is the root). Confined by construction: no call follows a
 * symlink — not at the last component, not at any ancestor (an ancestor that is missing or not a real directory
 * fails with code ENOTDIR, for every call) — so nothing outside the share is ever read or written. Every failure is an FsError naming the
 * operation and the share-relative path.
 */
export type ShareFs = {
  /** lstat; undefined when nothing is there (ENOENT). */
  stat(path: string): Promise<FsStat | undefined>;
  /** A directory's entries with their lstat; entries that vanish meanwhile are left out. */
  list(path: string): Promise<FsDirEntry[]>;
  readlink(path: string): Promise<string>;
  /** Opens an existing regular file for reading (a symlink there fails with ELOOP). */
  openRead(path: string): Promise<ReadableFile>;
  /** Creates a new file with a fresh random temp name in directory `dir`, exclusively; returns its path. */
  createTemp(dir: string, mode: number): Promise<{ path: string; file: WritableFile }>;
  /** Makes one directory (its parent must exist); EEXIST when anything is there. */
  mkdir(path: string, mode: number): Promise<void>;
  /** Makes a symlink (EEXIST when anything is there). */
  symlink(target: string, path: string): Promise<void>;
  /** Renames within the share; a file or symlink at `to` is replaced atomically. */
  rename(from: string, to: string): Promise<void>;
  /** `to` becomes a copy of the file `from` (a hard link where the filesystem allows); EEXIST if `to` exists. */
  copyFile(from: string, to: string): Promise<void>;
  /** Removes a file, a symlink (never what it points to) or a whole directory tree; nothing there is fine. */
  remove(path: string): Promise<void>;
  /** chmod/utimes on the entry itself, never through a symlink. */
  setMode(path: string, mode: number): Promise<void>;
  setMtime(path: string, ms: number): Promise<void>;
  /** Makes renames into directory `dir` durable (fsync of the directory). */
  syncDir(dir: string): Promise<void>;
  /**
   * The same share, cheaper for many calls in a row (one instruction applied): it may keep directory handles open
   * until `close()`, with the same confinement and the same errors. Absent: use this ShareFs itself.
   */
  forRun?(): { fs: ShareFs; close(): Promise<void> };
};

export type FsOperation =
  | "stat"
  | "list"
  | "readlink"
  | "open"
  | "read"
  | "create"
  | "write"
  | "mkdir"
  | "symlink"
  | "rename"
  | "copy"
  | "remove"
  | "chmod"
  | "utimes"
  | "sync";

const CODE_HINTS: Record<string, string> = {
  ENOSPC: "disk full (ENOSPC); free space and the agent will retry",
  EACCES: "permission denied (EACCES)",
  EPERM: "operation not permitted (EPERM)",
  EROFS: "read-only file system (EROFS)",
  ENOTDIR: "a symlink or a file stands where a directory is needed; not looking through it",
  ELOOP: "it is a symlink; not following it",
};

/** One failure of the port: `code` is the errno name (ENOENT, ENOSPC, …), the message says what, where and why. */
export class FsError extends FleetsyncError {
  override name = "FsError";
  /** Why, without the operation and path (for a result that names its path already). */
  readonly reason: string;
  constructor(
    readonly op: FsOperation,
    readonly path: string,
    readonly errno: string,
    detail?: string,
  ) {
    const reason = CODE_HINTS[errno] ?? detail ?? errno;
    super("unavailable", `cannot ${op} ${path === "" ? "the share root" : path}: ${reason}`, {
      retryable: true,
    });
    this.reason = reason;
  }
}

/** The errno name of an FsError (or a raw Node error), for decisions like "was it missing?". */
export function errnoOf(error: unknown): string | undefined {
  if (error instanceof FsError) return error.errno;
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

export function joinSharePath(dir: string, name: string): string {
  return dir === "" ? name : `${dir}/${name}`;
}

export function parentOf(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash < 0 ? "" : path.slice(0, slash);
}

export function baseName(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}
