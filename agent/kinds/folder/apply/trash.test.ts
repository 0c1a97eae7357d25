import { lstat, mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { makeTempDir } from "../../../../test/support/fleet.ts";
import { createNodeShareFs } from "../fs/node-share-fs.ts";
import * as trash from "./trash.ts";
import { TRASH_DIR, trashStamp } from "./trash.ts";

const moveToTrash = async (root: string, path: string, stamp: string) =>
  join(root, await trash.moveToTrash(createNodeShareFs(root), path, stamp));
const copyToTrash = async (root: string, path: string, stamp: string) =>
  join(root, await trash.copyToTrash(createNodeShareFs(root), path, stamp));
const cleanTrash = (root: string, days: number, now: number) =>
  trash.cleanTrash(createNodeShareFs(root), days, now);

let root: string;
beforeEach(async () => {
  root = await makeTempDir("fleetsync-trash-");
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("the share trash", () => {
  test("names a folder after the moment, to the millisecond, in UTC", () => {
    expect(trashStamp(new Date("2026-11-22T03:14:05.067Z"))).toBe("20261122-031405-067");
  });

  test("moves a file into the stamp folder under its share path, and never overwrites an earlier copy", async () => {
    await mkdir(join(root, "dir"));
    await writeFile(join(root, "dir/a.txt"), "first");
    const first = await moveToTrash(root, "dir/a.txt", "20260101-000000-000");
    await writeFile(join(root, "dir/a.txt"), "second");
    const second = await moveToTrash(root, "dir/a.txt", "20260101-000000-000");
    expect(first).toBe(join(root, TRASH_DIR, "20260101-000000-000", "dir/a.txt"));
    expect(second).not.toBe(first);
    expect(await readFile(first, "utf8")).toBe("first");
    expect(await readFile(second, "utf8")).toBe("second");
    expect(await lstat(join(root, "dir/a.txt")).catch(() => undefined)).toBeUndefined();
  });

  test("copies a file into the trash while leaving it in place", async () => {
    await writeFile(join(root, "keep.txt"), "still here");
    const copy = await copyToTrash(root, "keep.txt", "20260101-000000-000");
    expect(await readFile(copy, "utf8")).toBe("still here");
    expect(await readFile(join(root, "keep.txt"), "utf8")).toBe("still here");
  });

  test("cleaning removes stamp folders older than the retention and keeps newer ones", async () => {
    const now = Date.parse("2026-11-22T00:00:00Z");
    for (const stamp of ["20261020-000000-000", "20261101-000000-000", "20261121-120000-000"]) {
      await mkdir(join(root, TRASH_DIR, stamp), { recursive: true });
      await writeFile(join(root, TRASH_DIR, stamp, "f"), stamp);
    }
    await mkdir(join(root, TRASH_DIR, "not-a-stamp"), { recursive: true });
    expect(await cleanTrash(root, 30, now)).toBe(1);
    expect((await readdir(join(root, TRASH_DIR))).sort()).toEqual([
      "20261101-000000-000",
      "20261121-120000-000",
      "not-a-stamp",
    ]);
    expect(await cleanTrash(root, 0, now)).toBe(2);
  });

  test("cleaning a share that has no trash yet removes nothing", async () => {
    expect(await cleanTrash(root, 30, Date.now())).toBe(0);
  });
});
