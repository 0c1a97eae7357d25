// The share's trash (<root>/.fleetsync/trash/<stamp>/<path>): where replaced and deleted things go, kept retentionDays.
import { SHARE_META_DIR } from "../../../../shared/paths/normalize-share-path.ts";
import { errnoOf, parentOf, type ShareFs } from "../fs/share-fs.ts";

export const TRASH_DIR = `${SHARE_META_DIR}/trash`;

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

/** Makes the trash's directories down to `dir` (nothing of the user's is ever in the way there). */
async function makeTrashDirs(fs: ShareFs, dir: string): Promise<void> {
  let at = "";
  for (const part of dir.split("/")) {
    at = at ? `${at}/${part}` : part;
    await fs.mkdir(at, 0o700).catch((error) => {
      if (errnoOf(error) !== "EEXIST") throw error;
    });
  }
}

/**
 * Runs `act` with a free name in the trash for `path` (`path`, else `path~1`, `path~2` …), and returns the name
 * chosen (share-relative). The trash is reached through the confined filesystem like everything else.
 */
async function withTrashTarget(
  fs: ShareFs,
  path: string,
  stamp: string,
  act: (target: string) => Promise<void>,
): Promise<string> {
  const inTrash = `${TRASH_DIR}/${stamp}/${path}`;
  await makeTrashDirs(fs, parentOf(inTrash));
  let name = inTrash;
  for (let n = 1; await fs.stat(name); n++) name = `${inTrash}~${n}`;
  await act(name);
  return name;
}

/** Moves whatever is at `path` into the trash (a file, a whole directory, a symlink — never what it points to). */
export async function moveToTrash(fs: ShareFs, path: string, stamp: string): Promise<string> {
  return withTrashTarget(fs, path, stamp, (target) => fs.rename(path, target));
}

/** Keeps a copy of a file in the trash while it stays in place, so it can then be replaced atomically. */
export async function copyToTrash(fs: ShareFs, path: string, stamp: string): Promise<string> {
  return withTrashTarget(fs, path, stamp, (target) => fs.copyFile(path, target));
}

/** Deletes trash folders older than `retentionDays`; returns how many went. */
export async function cleanTrash(fs: ShareFs, retentionDays: number, nowMs: number): Promise<number> {
  const stamps = await fs.list(TRASH_DIR).catch(() => []);
  let removed = 0;
  for (const { name } of stamps) {
    const at = stampTime(name);
    if (at !== undefined && nowMs - at > retentionDays * 86_400_000) {
      await fs.remove(`${TRASH_DIR}/${name}`);
      removed++;
    }
  }
  return removed;
}
