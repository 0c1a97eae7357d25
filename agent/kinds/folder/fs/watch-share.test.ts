import { mkdir, mkdtemp, rename, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { createAgentLogger } from "../../../log/agent-logger.ts";
import { compileIgnoreRules } from "../scan/ignore-rules.ts";
import { type ShareWatcher, watchShare } from "./watch-share.ts";

const quiet = createAgentLogger({ level: "error", destination: "stdout" });
let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

async function watched(
  prepare?: (root: string) => Promise<void>,
  ignore: string[] = [],
  options: { startWalk?: boolean } = {},
) {
  const root = await mkdtemp(join(tmpdir(), "fleetsync-watch-"));
  await prepare?.(root);
  const seen: string[] = [];
  const watcher: ShareWatcher = watchShare(
    root,
    compileIgnoreRules(ignore),
    (p) => seen.push(p),
    quiet,
    options,
  );
  await watcher.ready;
  cleanup.push(async () => {
    await watcher.close();
    await rm(root, { recursive: true, force: true });
  });
  return {
    root,
    seen,
    watcher,
    /** Waits until some reported path satisfies `match` (the kernel delivers events asynchronously). */
    async until(match: (path: string) => boolean, what: string) {
      const deadline = Date.now() + 5000;
      while (!seen.some(match)) {
        if (Date.now() > deadline) throw new Error(`never reported ${what}; saw ${JSON.stringify(seen)}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    settle: () => new Promise((r) => setTimeout(r, 200)),
  };
}

describe("watchShare", () => {
  test("reports a change to a file in a directory that existed before the watch started", async () => {
    const w = await watched(async (root) => {
      await mkdir(join(root, "a/b"), { recursive: true });
      await writeFile(join(root, "a/b/f.txt"), "1");
    });
    await writeFile(join(w.root, "a/b/f.txt"), "2");
    await w.until((p) => p === "a/b/f.txt", "a/b/f.txt");
  });

  test("watches a directory made after the start, and what is made inside it", async () => {
    const w = await watched();
    await mkdir(join(w.root, "new"));
    await w.until((p) => p === "new", "the new directory");
    await w.settle();
    await writeFile(join(w.root, "new/inside.txt"), "x");
    await w.until((p) => p === "new/inside.txt", "a file in the new directory");
  });

  test("follows a renamed directory under its new name and reports both names", async () => {
    const w = await watched(async (root) => {
      await mkdir(join(root, "old/sub"), { recursive: true });
    });
    await rename(join(w.root, "old"), join(w.root, "moved"));
    await w.until((p) => p === "old", "the old name");
    await w.until((p) => p === "moved", "the new name");
    await w.settle();
    w.seen.length = 0;
    await writeFile(join(w.root, "moved/sub/f.txt"), "x");
    await w.until((p) => p === "moved/sub/f.txt", "a file under the new name");
    expect(w.seen.filter((p) => p.startsWith("old"))).toEqual([]);
  });

  test("reports a deleted file and a deleted directory", async () => {
    const w = await watched(async (root) => {
      await mkdir(join(root, "d/e"), { recursive: true });
      await writeFile(join(root, "gone.txt"), "x");
    });
    await rm(join(w.root, "gone.txt"));
    await rm(join(w.root, "d"), { recursive: true });
    await w.until((p) => p === "gone.txt", "the deleted file");
    await w.until((p) => p === "d", "the deleted directory");
  });

  test("never reports ignored names nor anything under the share's own .fleetsync folder", async () => {
    const w = await watched(
      async (root) => {
        await mkdir(join(root, ".fleetsync/trash"), { recursive: true });
        await mkdir(join(root, "build"));
      },
      ["build/", "*.log"],
    );
    await writeFile(join(w.root, ".fleetsync/trash/x"), "x");
    await writeFile(join(w.root, "build/out.o"), "x");
    await writeFile(join(w.root, "app.log"), "x");
    await writeFile(join(w.root, "kept.txt"), "x");
    await w.until((p) => p === "kept.txt", "the kept file");
    await w.settle();
    expect(w.seen.filter((p) => p !== "kept.txt")).toEqual([]);
  });

  test("does not follow a symlink to a directory, at the start or when it appears", async () => {
    const outside = await mkdtemp(join(tmpdir(), "fleetsync-watch-outside-"));
    cleanup.push(() => rm(outside, { recursive: true, force: true }));
    const w = await watched(async (root) => {
      await symlink(outside, join(root, "link-at-start"));
    });
    await symlink(outside, join(w.root, "link-later"));
    await w.until((p) => p === "link-later", "the new symlink itself");
    await w.settle();
    w.seen.length = 0;
    await writeFile(join(outside, "f.txt"), "x");
    await w.settle();
    expect(w.seen).toEqual([]);
  });

  test("without its start-up walk, watches the directories a scan lists, as it lists them, and what appears in them", async () => {
    const { createNodeShareFs } = await import("./node-share-fs.ts");
    const { scanShare } = await import("../scan/scan-share.ts");
    const w = await watched(
      async (root) => {
        await mkdir(join(root, "a/b"), { recursive: true });
        await mkdir(join(root, "c"));
        await writeFile(join(root, "a/b/f.txt"), "1");
      },
      [],
      { startWalk: false },
    );
    // Nothing is watched before the scan: a change now is only found by the scan's listing.
    await writeFile(join(w.root, "c/early.txt"), "x");
    await w.settle();
    expect(w.seen).toEqual([]);
    const listed: string[] = [];
    const scan = await scanShare(createNodeShareFs(w.root), {}, [""], compileIgnoreRules([]), quiet, {
      onDirectory: (dir) => {
        listed.push(dir);
        w.watcher.add(dir);
      },
    });
    expect(scan.changed.has("c/early.txt")).toBe(true);
    expect(listed.sort()).toEqual(["", "a", "a/b", "c"]);
    await writeFile(join(w.root, "a/b/f.txt"), "2");
    await w.until((p) => p === "a/b/f.txt", "a change in a directory the scan listed");
    await mkdir(join(w.root, "c/new"));
    await w.until((p) => p === "c/new", "the new directory");
    await w.settle();
    await writeFile(join(w.root, "c/new/inside.txt"), "x");
    await w.until((p) => p === "c/new/inside.txt", "a file in a directory made after the scan");
  });

  test("walk() watches every directory not watched yet, below watched ones too", async () => {
    const w = await watched(
      async (root) => {
        await mkdir(join(root, "a/b/c"), { recursive: true });
      },
      [],
      { startWalk: false },
    );
    w.watcher.add("a");
    w.watcher.walk();
    await writeFile(join(w.root, "a/b/c/f.txt"), "x");
    await w.until(
      (p) => p === "a/b/c/f.txt",
      "a change two levels below a directory watched before the walk",
    );
  });
});
