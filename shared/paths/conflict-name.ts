// The name a losing version of a file survives under: `<name>.sync-conflict-YYYYMMDD-HHMMSS-<device>.<ext>`.
import { MAX_SEGMENT_BYTES, parentOf } from "./normalize-share-path.ts";

const encoder = new TextEncoder();
const MAX_DEVICE_CHARS = 32;

/** A device name as it may appear in a file name: letters, digits, `_` and `-` only, at most 32 characters. */
export function sanitizeDeviceName(name: string): string {
  const clean = name
    .normalize("NFC")
    .replace(/[^A-Za-z0-9_-]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, MAX_DEVICE_CHARS);
  return clean === "" ? "device" : clean;
}

function stamp(nowMs: number): string {
  const iso = new Date(nowMs).toISOString(); // 2026-12-01T19:20:00.000Z
  return `${iso.slice(0, 10).replaceAll("-", "")}-${iso.slice(11, 19).replaceAll(":", "")}`;
}

/** Cuts `text` to at most `bytes` UTF-8 bytes without splitting a character. */
function cutToBytes(text: string, bytes: number): string {
  let out = "";
  for (const char of text) {
    if (encoder.encode(out + char).length > bytes) break;
    out += char;
  }
  return out;
}

/**
 * The conflict copy's share path for `path`, named after the losing device and the moment (UTC, from the clock
 * passed in). The extension stays last so the copy opens like the original; a dotfile's leading dot is not an
 * extension; a long name is shortened (never its marker) so the segment stays within 255 bytes.
 */
export function conflictName(path: string, device: string, nowMs: number): string {
  const dir = parentOf(path);
  const name = path.slice(dir === "" ? 0 : dir.length + 1);
  const dot = name.lastIndexOf(".");
  const hasExt = dot > 0 && dot < name.length - 1;
  const base = hasExt ? name.slice(0, dot) : name;
  const ext = hasExt ? name.slice(dot) : "";
  const marker = `.sync-conflict-${stamp(nowMs)}-${sanitizeDeviceName(device)}`;
  const room = MAX_SEGMENT_BYTES - encoder.encode(marker + ext).length;
  const segment = `${cutToBytes(base, Math.max(1, room))}${marker}${ext}`;
  return dir === "" ? segment : `${dir}/${segment}`;
}

/** True for a name made by conflictName (so a conflict copy of a conflict copy is recognizable). */
export function isConflictName(path: string): boolean {
  return /\.sync-conflict-\d{8}-\d{6}-[A-Za-z0-9_-]+(\.[^/]*)?$/.test(path);
}
