// The share's trash (<root>/.fleetsync/trash/<stamp>/<path>): where replaced and deleted things go, kept retentionDays.
import { copyFile, link, lstat, mkdir, readdir, rename, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { SHARE_META_DIR } from "../../shared/paths/normalize-share-path.ts";

export const TRASH_DIR = join(SHARE_META_DIR, "trash");

export function trashStamp(date: Date): string {
  const iso = date.toISOString(); // 2026-11-22T03:14:00.123Z
  return `${iso.slice(0, 10).replaceAll("-", "")}-${iso.slice(11, 19).replaceAll(":", "")}-${iso.slice(20, 23)}`;
}

function stampTime(stamp: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})-(\d{3})/.exec(stamp);
  if (!m) return undefined;
  return Date.UTC(
    Number(m[1]),
    Number(m[2]) - 1,
    Number(m[3]),
    Number(m[4]),
    Number(m[5]),
    Number(m[6]),
    Number(m[7]),
  );
}

async function trashPathFor(root: string, path: string, stamp: string): Promise<string> {
  let target = join(root, TRASH_DIR, stamp, path);
  for (let n = 1; await lstat(target).catch(() => undefined); n++)
    target = join(root, TRASH_DIR, stamp, `${path}~${n}`);
  await mkdir(dirname(target), { recursive: true });
  return target;
}

/** Moves whatever is at `path` into the trash (a file, a whole directory, a symlink). */
export async function moveToTrash(root: string, path: string, stamp: string): Promise<string> {
  const target = await trashPathFor(root, path, stamp);
  await rename(join(root, path), target);
  return target;
}

/** Keeps a copy of a file in the trash while it stays in place, so it can then be replaced atomically. */
export async function copyToTrash(root: string, path: string, stamp: string): Promise<string> {
  const target = await trashPathFor(root, path, stamp);
  try {
    await link(join(root, path), target);
  } catch {
    await copyFile(join(root, path), target);
  }
  return target;
}

/** Deletes trash folders older than `retentionDays`; returns how many went. */
export async function cleanTrash(root: string, retentionDays: number, nowMs: number): Promise<number> {
  const dir = join(root, TRASH_DIR);
  const stamps = await readdir(dir).catch(() => [] as string[]);
  let removed = 0;
  for (const stamp of stamps) {
    const at = stampTime(stamp);
    if (at !== undefined && nowMs - at > retentionDays * 86_400_000) {
      await rm(join(dir, stamp), { recursive: true, force: true });
      removed++;
    }
  }
  return removed;
}
