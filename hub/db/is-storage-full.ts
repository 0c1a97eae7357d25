// Recognizes "the disk is full" in whatever shape the database driver or the file system reports it.

const FULL_CODES = new Set(["SQLITE_FULL", "ENOSPC"]);
const FULL_TEXT = /SQLITE_FULL|database or disk is full|ENOSPC|no space left on device/i;

/** True when `error`, or any error in its cause chain, says the storage is out of space. */
export function isStorageFull(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && depth < 8; depth++) {
    const { code, message, cause } = e as { code?: unknown; message?: unknown; cause?: unknown };
    if (typeof code === "string" && FULL_CODES.has(code)) return true;
    if (typeof message === "string" && FULL_TEXT.test(message)) return true;
    e = cause;
  }
  return false;
}
