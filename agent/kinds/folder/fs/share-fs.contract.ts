// One contract for every ShareFs: the Node adapter and the in-memory fake must behave alike where the agent relies on it.
import { describe, expect, test } from "vitest";
import { errnoOf, type ShareFs } from "./share-fs.ts";
import { isTempName } from "./temp-name.ts";

const text = (s: string) => new TextEncoder().encode(s);

async function writeFile(fs: ShareFs, path: string, content: string, mode = 0o644, mtimeMs?: number) {
  const dir = path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : "";
  const { path: temp, file } = await fs.createTemp(dir, 0o600);
  await file.write(text(content), 0);
  await file.setMode(mode);
  if (mtimeMs !== undefined) await file.setMtime(mtimeMs);
  await file.sync();
  await file.close();
  await fs.rename(temp, path);
}

async function readText(fs: ShareFs, path: string): Promise<string> {
  const file = await fs.openRead(path);
  try {
    const buffer = new Uint8Array((await file.stat()).size);
    const n = await file.read(buffer, 0, buffer.byteLength, 0);
    return new TextDecoder().decode(buffer.subarray(0, n));
  } finally {
    await file.close();
  }
}

async function errno(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    return errnoOf(error);
  }
}

/** `make` returns a ShareFs over a fresh, empty share, and a path outside it that a symlink can point to. */
export function describeShareFsContract(name: string, make: () => Promise<{ fs: ShareFs; outside: string }>) {
  describe(`ShareFs contract: ${name}`, () => {
    test("a file written to a temp file and renamed into place reads back with exactly its mode and mtime", async () => {
      const { fs } = await make();
      await fs.mkdir("docs", 0o750);
      await writeFile(fs, "docs/a.txt", "hello", 0o640, 1_700_000_000_123);
      expect(await readText(fs, "docs/a.txt")).toBe("hello");
      const st = await fs.stat("docs/a.txt");
      expect(st).toMatchObject({ type: "file", size: 5, mode: 0o640, mtimeMs: 1_700_000_000_123 });
      expect((await fs.stat("docs"))?.mode).toBe(0o750);
      expect((await fs.list("docs")).map((e) => [e.name, e.stat.type])).toEqual([["a.txt", "file"]]);
    });

    test("temp files get fresh random names, are created exclusively, and never clash", async () => {
      const { fs } = await make();
      const a = await fs.createTemp("", 0o600);
      const b = await fs.createTemp("", 0o600);
      await a.file.close();
      await b.file.close();
      expect(a.path).not.toBe(b.path);
      expect(isTempName(a.path)).toBe(true);
      expect((await fs.list("")).map((e) => e.name).sort()).toEqual([a.path, b.path].sort());
    });

    test("nothing there: stat is undefined, remove is fine, open and list say ENOENT", async () => {
      const { fs } = await make();
      expect(await fs.stat("missing")).toBeUndefined();
      await fs.remove("missing");
      expect(await errno(fs.openRead("missing"))).toBe("ENOENT");
      expect(await errno(fs.list("missing"))).toBe("ENOTDIR");
    });

    test("a missing or non-directory ancestor fails every call with ENOTDIR", async () => {
      const { fs } = await make();
      await writeFile(fs, "file", "x");
      expect(await errno(fs.stat("nodir/a"))).toBe("ENOTDIR");
      expect(await errno(fs.stat("file/a"))).toBe("ENOTDIR");
      expect(await errno(fs.mkdir("file/a", 0o755))).toBe("ENOTDIR");
      expect(await errno(fs.createTemp("file", 0o600))).toBe("ENOTDIR");
    });

    test("a symlinked ancestor is never looked through, whatever it points to", async () => {
      const { fs, outside } = await make();
      await fs.mkdir("real", 0o755);
      await fs.symlink(outside, "out");
      await fs.symlink("real", "in");
      for (const link of ["out", "in"]) {
        expect(await errno(fs.stat(`${link}/x`))).toBe("ENOTDIR");
        expect(await errno(fs.createTemp(link, 0o600))).toBe("ENOTDIR");
        expect(await errno(fs.mkdir(`${link}/d`, 0o755))).toBe("ENOTDIR");
        expect(await errno(fs.symlink("t", `${link}/s`))).toBe("ENOTDIR");
        expect(await errno(fs.list(link))).toBe("ENOTDIR");
      }
      expect((await fs.stat("out"))?.type).toBe("symlink");
      expect(await fs.readlink("out")).toBe(outside);
    });

    test("a symlink is never followed at the last component: open, chmod and utimes refuse it", async () => {
      const { fs } = await make();
      await writeFile(fs, "target.txt", "t");
      await fs.symlink("target.txt", "link");
      expect(await errno(fs.openRead("link"))).toBe("ELOOP");
      expect(await errno(fs.setMode("link", 0o600))).toBe("ELOOP");
      expect(await errno(fs.setMtime("link", 1_000))).toBe("ELOOP");
      await fs.remove("link");
      expect(await readText(fs, "target.txt")).toBe("t");
    });

    test("rename replaces a file atomically and moves directories with their content", async () => {
      const { fs } = await make();
      await writeFile(fs, "a.txt", "old");
      await writeFile(fs, "b.txt", "new");
      await fs.rename("b.txt", "a.txt");
      expect(await readText(fs, "a.txt")).toBe("new");
      expect(await fs.stat("b.txt")).toBeUndefined();
      await fs.mkdir("d", 0o755);
      await writeFile(fs, "d/x", "x");
      await fs.mkdir("e", 0o755);
      await fs.rename("d", "e/d");
      expect(await readText(fs, "e/d/x")).toBe("x");
    });

    test("copyFile keeps an equal copy and refuses to overwrite; remove takes a whole tree", async () => {
      const { fs } = await make();
      await writeFile(fs, "a.txt", "keep me");
      await fs.mkdir("t", 0o755);
      await fs.copyFile("a.txt", "t/a.txt");
      expect(await readText(fs, "t/a.txt")).toBe("keep me");
      expect(await errno(fs.copyFile("a.txt", "t/a.txt"))).toBe("EEXIST");
      await fs.remove("t");
      expect(await fs.stat("t")).toBeUndefined();
      expect(await readText(fs, "a.txt")).toBe("keep me");
    });

    test("making what exists already is EEXIST; errors name the operation and the share path", async () => {
      const { fs } = await make();
      await fs.mkdir("d", 0o755);
      expect(await errno(fs.mkdir("d", 0o755))).toBe("EEXIST");
      expect(await errno(fs.symlink("x", "d"))).toBe("EEXIST");
      await expect(fs.mkdir("d", 0o755)).rejects.toThrow(/cannot mkdir d/);
      await expect(fs.openRead("nope/x")).rejects.toThrow(/cannot open nope\/x/);
    });

    test("inodes identify entries: a rename keeps one, a new file gets another", async () => {
      const { fs } = await make();
      await writeFile(fs, "a", "1");
      const first = (await fs.stat("a"))!.ino;
      await fs.rename("a", "b");
      expect((await fs.stat("b"))!.ino).toBe(first);
      await writeFile(fs, "a", "2");
      expect((await fs.stat("a"))!.ino).not.toBe(first);
    });
  });
}
