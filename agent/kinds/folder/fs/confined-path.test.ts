import { lstat, mkdir, readFile, rename, rm, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { makeTempDir } from "../../../../test/support/fleet.ts";
import { confinePath, NotADirectoryError, withConfinedPath } from "./confined-path.ts";

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
