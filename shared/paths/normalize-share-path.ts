// Validates and normalizes a path inside a share: relative, "/"-separated, NFC, never escaping the root.

export const MAX_PATH_BYTES = 4096;
export const MAX_SEGMENT_BYTES = 255;
/** The folder inside every share root that fleetsync owns (marker, trash, temp state). Never synced. */
export const SHARE_META_DIR = ".fleetsync";
/** Any path segment starting with this is fleetsync's own (meta dir, `.fleetsync.<random>.tmp` temp files). */
export const RESERVED_SEGMENT_PREFIX = ".fleetsync";

export type PathCheck = { ok: true; path: string } | { ok: false; reason: string };

const encoder = new TextEncoder();

/** Returns the canonical form of a share-relative path, or why it is not acceptable. */
export function normalizeSharePath(input: string): PathCheck {
  if (typeof input !== "string" || input.length === 0) return { ok: false, reason: "path is empty" };
  if (input.includes("\0")) return { ok: false, reason: "path contains a NUL byte" };
  if (input.includes("\\")) return { ok: false, reason: "path contains a backslash" };
  // A lone surrogate has no UTF-8 form: on disk it would become U+FFFD, so two paths could share one file.
  if (/\p{Surrogate}/u.test(input)) return { ok: false, reason: "path is not well-formed Unicode" };
  if (input.startsWith("/")) return { ok: false, reason: "path is absolute" };
  if (/^[A-Za-z]:/.test(input)) return { ok: false, reason: "path starts with a drive letter" };
  const path = input.normalize("NFC");
  if (encoder.encode(path).length > MAX_PATH_BYTES) {
    return { ok: false, reason: `path is longer than ${MAX_PATH_BYTES} bytes` };
  }
  const segments = path.split("/");
  for (const segment of segments) {
    if (segment === "") return { ok: false, reason: "path has an empty segment" };
    if (segment === "." || segment === "..") return { ok: false, reason: `path has a "${segment}" segment` };
    if (encoder.encode(segment).length > MAX_SEGMENT_BYTES) {
      return { ok: false, reason: `path segment is longer than ${MAX_SEGMENT_BYTES} bytes` };
    }
    if (isReservedSegment(segment)) {
      return {
        ok: false,
        reason: `path segment ${JSON.stringify(segment.slice(0, 64))} is reserved for fleetsync's own files`,
      };
    }
  }
  return { ok: true, path };
}

/** True for a name fleetsync keeps for itself: `.fleetsync`, `.fleetsync.<random>.tmp`, `.fleetsync-…`. */
export function isReservedSegment(segment: string): boolean {
  return segment.startsWith(RESERVED_SEGMENT_PREFIX);
}

/** True when `path` is `ancestor` itself or lies below it (both normalized). */
export function isSameOrBelow(path: string, ancestor: string): boolean {
  return ancestor === "" || path === ancestor || path.startsWith(`${ancestor}/`);
}

/** The parent of a normalized path, "" for a top-level one. */
export function parentOf(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash < 0 ? "" : path.slice(0, slash);
}
