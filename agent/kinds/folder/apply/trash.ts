// The share's trash (<root>/.fleetsync/trash/<stamp>/<path>): where replaced and deleted things go, kept retentionDays.
import { link, lstat, mkdir, readdir, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { SHARE_META_DIR } from "../../../../shared/paths/normalize-share-path.ts";
import { openShareDir, withConfinedPath } from "../fs/confined-path.ts";
import { createExclusive, openNoFollow } from "../fs/open-no-follow.ts";

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

/** Creates a missing directory of the trash (nothing of the user's is ever in the way there). */
const makeTrashDir = async (_rel: string, at: string) => {
  await mkdir(at).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== "EEXIST") throw error;
  });
};

/**
 * Runs `act` with a free name in the trash for `path` (`path`, else `path~1`, `path~2` …), reached through
 * handles on the trash's real directories; returns the name chosen (share-root based, for people and tests).
 */
async function withTrashTarget(
  root: string,
  path: string,
  stamp: string,
  act: (target: string) => Promise<void>,
): Promise<string> {
  const inTrash = `${TRASH_DIR}/${stamp}/${path}`;
  return withConfinedPath(
    root,
    inTrash,
    async (at) => {
      let name = inTrash;
      let target = at.abs;
      for (let n = 1; await lstat(target).catch(() => undefined); n++) {
        name = `${inTrash}~${n}`;
        target = `${at.abs}~${n}`;
      }
      await act(target);
      return join(root, name);
    },
    makeTrashDir,
  );
}

/** Moves whatever is at `path` into the trash (a file, a whole directory, a symlink — never what it points to). */
export async function moveToTrash(root: string, path: string, stamp: string): Promise<string> {
  return withConfinedPath(root, path, (from) =>
    withTrashTarget(root, path, stamp, (target) => rename(from.abs, target)),
  );
}

/** Keeps a copy of a file in the trash while it stays in place, so it can then be replaced atomically. */
export async function copyToTrash(root: string, path: string, stamp: string): Promise<string> {
  return withConfinedPath(root, path, (from) =>
    withTrashTarget(root, path, stamp, async (target) => {
      // link() does not follow a symlink at `from`; the copy (across a mount inside the share) reads without following.
      await link(from.abs, target).catch(async () => copyNoFollow(from.abs, target));
    }),
  );
}

async function copyNoFollow(from: string, to: string): Promise<void> {
  const source = await openNoFollow(from);
  try {
    const target = await createExclusive(to);
    try {
      const buffer = Buffer.allocUnsafe(1024 * 1024);
      for (let position = 0; ; ) {
        const { bytesRead } = await source.read(buffer, 0, buffer.length, position);
        if (bytesRead === 0) break;
        await target.write(buffer, 0, bytesRead, position);
        position += bytesRead;
      }
    } finally {
      await target.close();
    }
  } finally {
    await source.close();
  }
}

/** Deletes trash folders older than `retentionDays`; returns how many went. */
export async function cleanTrash(root: string, retentionDays: number, nowMs: number): Promise<number> {
  const trash = await openShareDir(root, TRASH_DIR).catch(() => undefined);
  if (!trash) return 0;
  const dir = `/proc/self/fd/${trash.fd}`;
  try {
    let removed = 0;
    for (const stamp of await readdir(dir)) {
      const at = stampTime(stamp);
      if (at !== undefined && nowMs - at > retentionDays * 86_400_000) {
        await rm(`${dir}/${stamp}`, { recursive: true, force: true });
        removed++;
      }
    }
    return removed;
  } finally {
    await trash.close();
  }
}
