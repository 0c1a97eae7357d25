import { lstat, mkdir, readFile, rename, rm, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { makeTempDir } from "../../../../test/support/fleet.ts";
import { confinePath, KeptDirHandles, NotADirectoryError, withConfinedPath } from "./confined-path.ts";

let base: string;
let root: string;
let outside: string;
beforeEach(async () => {
  base = await makeTempDir("fleetsync-confined-");
  root = join(base, "share");
  outside = join(base, "outside");
  await mkdir(root);
  await mkdir(outside);
});
afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

describe("confinePath", () => {
  test("reaches a path below real directories", async () => {
    await mkdir(join(root, "a/b"), { recursive: true });
    await withConfinedPath(root, "a/b/c.txt", (at) => writeFile(at.abs, "hello"));
    expect(await readFile(join(root, "a/b/c.txt"), "utf8")).toBe("hello");
  });

  test("refuses to look through a symlinked ancestor", async () => {
    await symlink(outside, join(root, "a"));
    await expect(confinePath(root, "a/c.txt")).rejects.toBeInstanceOf(NotADirectoryError);
    await expect(confinePath(root, "a/c.txt")).rejects.toThrow(/a is not a real directory/);
  });

  test("refuses to look through a file standing where a directory should be", async () => {
    await writeFile(join(root, "a"), "a file");
    await expect(confinePath(root, "a/c.txt")).rejects.toBeInstanceOf(NotADirectoryError);
  });

  test("lets the caller replace a missing or non-directory ancestor, then goes on through the new directory", async () => {
    await symlink(outside, join(root, "a"));
    const made: string[] = [];
    const at = await confinePath(root, "a/b/c.txt", async (rel, where) => {
      made.push(rel);
      await rm(where, { force: true });
      await mkdir(where);
    });
    await writeFile(at.abs, "inside");
    await at.close();
    expect(made).toEqual(["a", "a/b"]);
    expect(await readFile(join(root, "a/b/c.txt"), "utf8")).toBe("inside");
    expect(await lstat(join(outside, "b")).catch(() => undefined)).toBeUndefined();
  });

  test("an ancestor swapped for a symlink after the path was resolved cannot redirect the write outside", async () => {
    await mkdir(join(root, "a"));
    const at = await confinePath(root, "a/c.txt");
    // The attacker moves the real directory away and puts a link to a sensitive place at its name.
    await rename(join(root, "a"), join(root, "moved"));
    await symlink(outside, join(root, "a"));
    await writeFile(at.abs, "written through the handle");
    await at.close();
    expect(await lstat(join(outside, "c.txt")).catch(() => undefined)).toBeUndefined();
    expect(await readFile(join(root, "moved/c.txt"), "utf8")).toBe("written through the handle");
  });
});

describe("KeptDirHandles", () => {
  test("a kept directory swapped for a symlink to outside is never written through: the next call says ENOTDIR", async () => {
    await mkdir(join(root, "a/b"), { recursive: true });
    const kept = new KeptDirHandles(root);
    try {
      const first = await kept.open("a/b");
      await writeFile(`/proc/self/fd/${first.handle.fd}/one.txt`, "1");
      await first.release();
      // The attacker moves the directory aside and plants a link to outside in its place.
      await rename(join(root, "a"), join(root, "moved"));
      await symlink(outside, join(root, "a"));
      await mkdir(join(outside, "b"));
      await expect(kept.open("a/b")).rejects.toBeInstanceOf(NotADirectoryError);
      expect(await readFile(join(root, "moved/b/one.txt"), "utf8")).toBe("1");
    } finally {
      await kept.close();
    }
  });

  test("a kept directory replaced by another real directory is opened afresh, so writes land in the new one", async () => {
    await mkdir(join(root, "d"));
    const kept = new KeptDirHandles(root);
    try {
      const before = await kept.open("d");
      await before.release();
      await rename(join(root, "d"), join(root, "old"));
      await mkdir(join(root, "d"));
      const after = await kept.open("d");
      await writeFile(`/proc/self/fd/${after.handle.fd}/x.txt`, "new");
      await after.release();
      expect(await readFile(join(root, "d/x.txt"), "utf8")).toBe("new");
      await expect(lstat(join(root, "old/x.txt"))).rejects.toThrow();
    } finally {
      await kept.close();
    }
  });

  test("calls of one run share one handle per directory, and close() closes them", async () => {
    await mkdir(join(root, "a/b"), { recursive: true });
    const kept = new KeptDirHandles(root);
    const one = await kept.open("a/b");
    const two = await kept.open("a/b");
    expect(two.handle.fd).toBe(one.handle.fd);
    await kept.close();
    await expect(one.handle.stat()).rejects.toThrow();
  });
});
