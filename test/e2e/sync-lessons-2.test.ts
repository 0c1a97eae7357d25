// sync-lessons.md's scenarios 7–10 (stale replicas, mass deletion, lost events), leftovers, clock skew and names, one-way.
import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { lstat, mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import {
  canLimitInotifyWatches,
  type Fleet,
  findTempFiles,
  listTrash,
  snapshotTree,
  startAgent,
  startAgentWithInotifyLimit,
  updateAgentConfig,
  waitFor,
  waitForConvergence,
  writeFiles,
} from "../support/fleet.ts";
import { queryHubDb } from "../support/hub-secrets.ts";
import { setMtime } from "../support/set-mtime.ts";
import { useSharedHubFleets } from "../support/shared-hub-fleets.ts";

/** One hub for this file's tests, each fleet on it with a share of its own. */
const startFleet = useSharedHubFleets();

let fleet: Fleet | undefined;
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  await fleet?.stop();
  fleet = undefined;
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

// Whether this machine can give one process its own inotify limits (an unprivileged user namespace).
const canLimitInotify = await canLimitInotifyWatches();
const hasPython = spawnSync("python3", ["--version"]).status === 0;
/** Overwrites the start of a file through a shared memory map: python3 -c MMAP_WRITE <file> <text>. */
const MMAP_WRITE = [
  "import mmap, sys",
  "with open(sys.argv[1], 'r+b') as f:",
  "    m = mmap.mmap(f.fileno(), 0)",
  "    m[0:len(sys.argv[2])] = sys.argv[2].encode()",
  "    m.flush()",
  "    m.close()",
].join("\n");

const NFD_FILE = "cafe\u0301.txt";
const NFD_DIR = "re\u0301sume\u0301";
const NFD_CHILD = "nai\u0308ve.txt";

async function writeNfdTree(root: string): Promise<void> {
  await writeFile(join(root, NFD_FILE), "nfd file\n");
  await mkdir(join(root, NFD_DIR));
  await writeFile(join(root, NFD_DIR, NFD_CHILD), "nfd child\n");
}

/** The source renamed the NFD names in place, and the replica has exactly the NFC ones (so the trees match). */
async function expectNfcEverywhere(f: Fleet): Promise<void> {
  const names = await readdir(f.sourceRoot);
  expect(names).toContain(NFD_FILE.normalize("NFC"));
  expect(names).toContain(NFD_DIR.normalize("NFC"));
  expect(names).not.toContain(NFD_FILE);
  expect(names).not.toContain(NFD_DIR);
  const tree = await snapshotTree(f.replicas[0]!.root);
  expect(tree[NFD_FILE.normalize("NFC")]?.type).toBe("file");
  expect(tree[`${NFD_DIR}/${NFD_CHILD}`.normalize("NFC")]?.type).toBe("file");
}

async function writeUnsyncableNames(root: string): Promise<void> {
  await writeFile(join(root, "bad\\name.txt"), "cannot be synced\n");
  await writeFile(join(root, "good.txt"), "good\n");
  await writeFiles(root, { "sub/also\\bad.txt": "no\n", "sub/fine.txt": "fine\n" });
}

async function expectOnlyGoodNamesArrive(f: Fleet): Promise<void> {
  const replica = f.replicas[0]!.root;
  await waitFor(
    async () =>
      (await readFile(join(replica, "good.txt"), "utf8").catch(() => "")) === "good\n" &&
      (await readFile(join(replica, "sub/fine.txt"), "utf8").catch(() => "")) === "fine\n",
    // A share blocked by the bad name would wait 60 s before its next try, and fail the same way again: 45 s is
    // enough for an agent that starts slowly on a loaded machine, and still short of that retry.
    { timeoutMs: 45_000, what: "the good files to arrive" },
  );
  expect(f.source.agent.output()).toMatch(/"level":"warn".*skipping a name that cannot be synced/);
  expect(Object.keys(await snapshotTree(replica)).sort()).toEqual([
    "good.txt",
    "start.txt",
    "sub",
    "sub/fine.txt",
  ]);
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function headSeq(f: Fleet): Promise<number> {
  const rows = await queryHubDb(f.hub.dataDir, "select head_seq from shares where name = ?", [f.share]);
  return Number(rows[0]?.head_seq);
}

/** How many paths the hub holds that are not tombstones. */
async function liveEntries(f: Fleet): Promise<number> {
  const rows = await queryHubDb(
    f.hub.dataDir,
    "select count(*) as n from entries where share = ? and type != 'deleted'",
    [f.share],
  );
  return Number(rows[0]?.n);
}

describe("7. a stale or reset replica rejoining", () => {
  test("a replica stopped during many changes (incl. deletes, a dir rename and type changes), state kept, converges on restart", async () => {
    fleet = await startFleet({ replicas: 1 });
    const src = fleet.sourceRoot;
    const files: Record<string, string> = {};
    for (let i = 0; i < 40; i++) files[`dir-${i % 4}/file-${i}.txt`] = `file ${i}\n`;
    await writeFiles(src, { ...files, "old-name/inside.txt": "inside\n", "will-be-dir": "file\n" });
    await waitForConvergence(fleet);
    const stale = fleet.replicas[0]!;
    await stale.agent.stop();

    for (let i = 0; i < 40; i += 3)
      await writeFile(join(src, `dir-${i % 4}/file-${i}.txt`), `changed ${i}\n`);
    for (let i = 1; i < 40; i += 4) await rm(join(src, `dir-1/file-${i}.txt`));
    await rm(join(src, "dir-2"), { recursive: true });
    await rename(join(src, "old-name"), join(src, "new-name"));
    await rm(join(src, "will-be-dir"));
    await writeFiles(src, { "will-be-dir/child.txt": "child\n" });
    for (let i = 0; i < 20; i++) await writeFiles(src, { [`added/n-${i}.txt`]: `new ${i}\n` });
    const items = Object.keys(await snapshotTree(src)).length;
    await waitFor(async () => (await liveEntries(fleet!)) === items, {
      what: "every change to be committed",
    });

    stale.agent = startAgent(stale.stateDir);
    await waitForConvergence(fleet);
    expect(await findTempFiles(stale.root)).toEqual([]);
    const trash = (await listTrash(stale.root)).map((t) => t.path);
    expect(trash).toContain("dir-2/file-2.txt");
    expect(trash).toContain("old-name/inside.txt");
  });

  test("a replica whose share state file was lost, its files kept, converges without trashing or duplicating good files and without touching the source", async () => {
    fleet = await startFleet({ replicas: 1 });
    const src = fleet.sourceRoot;
    await writeFiles(src, {
      "good/one.txt": "one\n",
      "good/two.txt": "two\n",
      "good/big.bin": randomBytes(1_000_000),
      "edit-me.txt": "before\n",
      "delete-me.txt": "doomed\n",
    });
    await waitForConvergence(fleet);
    const replica = fleet.replicas[0]!;
    await replica.agent.stop();
    await rm(join(replica.stateDir, "shares", `${fleet.share}.json`));

    await writeFile(join(src, "edit-me.txt"), "after\n");
    await rm(join(src, "delete-me.txt"));
    await writeFiles(src, { "added.txt": "added\n" });
    await waitFor(async () => (await headSeq(fleet!)) >= 9, { what: "the source's changes to be committed" });
    const sourceBefore = await snapshotTree(src);

    replica.agent = startAgent(replica.stateDir);
    await waitForConvergence(fleet);
    expect(replica.agent.output()).toMatch(/"replica ready".*"cursor":0/);
    const trash = (await listTrash(replica.root)).filter((t) => t.type !== "dir").map((t) => t.path);
    expect(trash.sort()).toEqual(["delete-me.txt", "edit-me.txt"]);
    expect(Object.keys(await snapshotTree(replica.root)).filter((p) => /~\d+$|conflict/.test(p))).toEqual([]);
    expect(await snapshotTree(src)).toEqual(sourceBefore);
  });
});

describe("8. mass deletion / vanished mount", () => {
  test("the source's .fleetsync marker deleted while running, then every file deleted: nothing is deleted on replicas and the source says why", async () => {
    fleet = await startFleet({ replicas: 1 });
    const src = fleet.sourceRoot;
    await writeFiles(src, { "precious/a.txt": "a\n", "b.txt": "b\n" });
    await waitForConvergence(fleet);
    const before = await snapshotTree(fleet.replicas[0]!.root);
    const head = await headSeq(fleet);

    await rm(join(src, ".fleetsync"), { recursive: true });
    await rm(join(src, "precious"), { recursive: true });
    await rm(join(src, "b.txt"));
    await waitFor(() => /"level":"error".*\.fleetsync is missing/.test(fleet!.source.agent.output()), {
      what: "the source to notice the missing marker",
    });
    await pause(1500); // proving a negative: nothing may happen
    expect(await snapshotTree(fleet.replicas[0]!.root)).toEqual(before);
    expect(await headSeq(fleet)).toBe(head);
  });
});

describe("9. lost watcher events", () => {
  test("changes the watcher could not see (made while the source agent was stopped, state kept) are caught by the start-up scan", async () => {
    fleet = await startFleet({ replicas: 1 });
    const src = fleet.sourceRoot;
    await writeFiles(src, { "same-size.txt": "AAAA\n", "tree/a/b.txt": "b\n", "append.log": "1\n" });
    await waitForConvergence(fleet);
    await fleet.source.agent.stop();

    await writeFile(join(src, "same-size.txt"), "BBBB\n");
    await rm(join(src, "tree/a"), { recursive: true });
    await writeFiles(src, { "tree/new/c.txt": "c\n" });
    const old = Math.floor((await lstat(join(src, "append.log"))).mtimeMs);
    await writeFile(join(src, "append.log"), "1\n2\n", { flag: "a" });
    await setMtime(join(src, "append.log"), old);
    fleet.source.agent = startAgent(fleet.source.stateDir);
    await waitForConvergence(fleet);
  });

  // inotify reports nothing for a write through a shared memory map (mmap), though the kernel still moves the
  // file's mtime: exactly the kind of change only a rescan finds. (So is a write through a hard link from outside
  // the share: the agent watches directories, which hear only of changes made through their own names.) Node has
  // no mmap; Python does.
  test.skipIf(!hasPython)(
    "a write the watcher cannot see (through a shared mmap) is caught by the periodic rescan",
    async () => {
      fleet = await startFleet({ replicas: 1 });
      const src = fleet.sourceRoot;
      await writeFiles(src, { "mapped.bin": "original content\n", "other.txt": "o\n" });
      await waitForConvergence(fleet);
      await fleet.source.agent.stop();
      await updateAgentConfig(fleet.source.stateDir, (config) => {
        config.defaults.rescanMinutes = 0.02; // every 1.2 s
      });
      fleet.source.agent = startAgent(fleet.source.stateDir);
      await waitFor(() => fleet!.source.agent.output().includes("agent started"), { what: "the source" });

      execFileSync("python3", ["-c", MMAP_WRITE, join(src, "mapped.bin"), "CHANGED!"]);
      await waitForConvergence(fleet, 8000);
      expect(await readFile(join(fleet.replicas[0]!.root, "mapped.bin"), "utf8")).toBe("CHANGED! content\n");
    },
  );

  test.skipIf(!canLimitInotify)(
    "a source that runs out of inotify watches says so, falls back to polling, and still syncs",
    async () => {
      fleet = await startFleet({ replicas: 1 });
      const src = fleet.sourceRoot;
      const files: Record<string, string> = {};
      for (let i = 0; i < 12; i++) files[`d${i}/f.txt`] = `${i}\n`;
      await writeFiles(src, files);
      await waitForConvergence(fleet);
      await fleet.source.agent.stop();
      // Its own user namespace with room for 4 watches: only this agent is limited, nothing else on the machine.
      fleet.source.agent = startAgentWithInotifyLimit(fleet.source.stateDir, 4);
      await waitFor(() => fleet!.source.agent.output().includes("falling back to polling"), {
        what: "the inotify fallback message",
      });
      expect(fleet.source.agent.output()).toMatch(/"level":"warn".*inotify watch limit reached/);

      await writeFiles(src, { "d3/f.txt": "changed while polling\n", "d11/new.txt": "new\n" });
      await rm(join(src, "d5"), { recursive: true });
      await waitForConvergence(fleet, 15_000);
    },
  );
});

describe("10. more hard cases", () => {
  test("a replica-only file inside a directory the source deletes: the directory goes to trash with it, nothing is lost", async () => {
    fleet = await startFleet({ replicas: 1 });
    const replica = fleet.replicas[0]!.root;
    await writeFiles(fleet.sourceRoot, { "dir/a.txt": "a\n", "dir/sub/b.txt": "b\n", "stay.txt": "s\n" });
    await waitForConvergence(fleet);
    await writeFiles(replica, { "dir/sub/local-notes.txt": "only here\n", "dir/.hidden": "hidden\n" });

    await rm(join(fleet.sourceRoot, "dir"), { recursive: true });
    await waitForConvergence(fleet);
    // Deletes run deepest first, so the synced files reach the trash one by one and what is left of each
    // directory follows it under a "~n" name when its trash name is taken: dir/sub~1/local-notes.txt.
    const trash = await listTrash(replica);
    const copies = (name: string) =>
      trash
        .filter((t) => new RegExp(`^dir(~\\d+)?/(sub(~\\d+)?/)?${name}$`).test(t.path))
        .map((t) => t.content);
    expect(copies("local-notes\\.txt")).toEqual(["only here\n"]);
    expect(copies("\\.hidden")).toEqual(["hidden\n"]);
    expect(copies("a\\.txt")).toEqual(["a\n"]);
    expect(copies("b\\.txt")).toEqual(["b\n"]);
  });

  test("interrupted transfers leave no temp files: a replica killed mid-apply, with a stale temp file planted, converges clean", async () => {
    fleet = await startFleet({ replicas: 1 });
    const replica = fleet.replicas[0]!;
    const files: Record<string, Buffer> = {};
    for (let i = 0; i < 12; i++) files[`payload/p-${i}.bin`] = randomBytes(3 * 1024 * 1024);
    await writeFiles(fleet.sourceRoot, files);
    await waitFor(
      async () => (await readdir(join(replica.root, "payload")).catch(() => [] as string[])).length >= 2,
      { intervalMs: 5, what: "the replica to be mid-apply" },
    );
    await replica.agent.kill();
    // What a crash in the middle of writeTempFile leaves (same naming scheme), in a directory of its own.
    await writeFiles(replica.root, { "payload/.fleetsync.0123456789abcdef.tmp": randomBytes(1000) });

    replica.agent = startAgent(replica.stateDir);
    await waitForConvergence(fleet);
    expect(replica.agent.output()).toContain("removed temp files left by an interrupted apply");
    expect(await findTempFiles(replica.root)).toEqual([]);
    expect(await findTempFiles(fleet.sourceRoot)).toEqual([]);
  });
});

describe("clock skew: mtimes are data, the hub's sequence orders versions", () => {
  // One-way shares have no conflicts, so no mtime ever picks a winner; what can still go wrong is an agent
  // that trusts mtimes to order versions ("the replica's copy is newer, keep it"). It must not.
  test("a newer version with an OLDER mtime (a skewed or restored clock) still replaces the replicas' copy", async () => {
    fleet = await startFleet({ replicas: 1 });
    const file = join(fleet.sourceRoot, "skewed.conf");
    await writeFile(file, "version 1, stamped in the future\n");
    await setMtime(file, Date.parse("2031-01-01T00:00:00.000Z"));
    await waitForConvergence(fleet);

    await writeFile(file, "version 2, stamped in the past\n");
    await setMtime(file, Date.parse("2001-01-01T00:00:00.000Z"));
    await waitForConvergence(fleet);
    expect(await readFile(join(fleet.replicas[0]!.root, "skewed.conf"), "utf8")).toBe(
      "version 2, stamped in the past\n",
    );
  });
});

describe("names: Unicode normalization and names that cannot be synced", () => {
  test("NFD names made while the source agent was stopped are renamed to NFC at its start and replicate under their NFC names", async () => {
    fleet = await startFleet({ replicas: 1 });
    const src = fleet.sourceRoot;
    await writeFiles(src, { "start.txt": "s\n" });
    await waitForConvergence(fleet);
    await fleet.source.agent.stop();
    expect(NFD_FILE).not.toBe(NFD_FILE.normalize("NFC"));
    await writeNfdTree(src);

    fleet.source.agent = startAgent(fleet.source.stateDir);
    await waitForConvergence(fleet);
    await expectNfcEverywhere(fleet);
  });

  // Regression (fixed in agent/scan/scan-share.ts, the loop over `tops`): paths handed over by the watcher are visited as they
  // are, without normalizeSharePath(): an NFD name created while the agent runs is neither renamed to NFC on
  // disk nor checked. The hub NFC-normalizes it, so the replica gets the NFC name while the source keeps the
  // NFD one; a child of an NFD directory is looked up under the NFC directory name, which does not exist, and
  // is lost until the hourly rescan. Remove `.fails` once dirty paths go through the same checks as walked names.
  test("NFD names made while the source agent runs are renamed to NFC on the source and replicate under their NFC names", async () => {
    fleet = await startFleet({ replicas: 1 });
    await writeFiles(fleet.sourceRoot, { "start.txt": "s\n" });
    await waitForConvergence(fleet);
    await writeNfdTree(fleet.sourceRoot);
    await waitForConvergence(fleet, 5000);
    await expectNfcEverywhere(fleet);
  });

  test("a name that cannot be synced (a backslash), present at the source's start, is skipped with a warning and does not block the rest", async () => {
    fleet = await startFleet({ replicas: 1 });
    const src = fleet.sourceRoot;
    await writeFiles(src, { "start.txt": "s\n" });
    await waitForConvergence(fleet);
    await fleet.source.agent.stop();
    await writeUnsyncableNames(src);
    fleet.source.agent = startAgent(fleet.source.stateDir);
    await expectOnlyGoodNamesArrive(fleet);
  });

  // Regression (fixed in agent/scan/scan-share.ts, the loop over `tops`): the same unchecked dirty paths. A backslash name
  // created while the agent runs is reported as is; the hub answers 422 for the WHOLE report, which is not
  // retryable, so the agent waits 60 s and sends the same report again, forever: no other change of the
  // share reaches the replicas any more. Remove `.fails` once dirty paths go through normalizeSharePath().
  test("a name that cannot be synced (a backslash), created while the source runs, is skipped with a warning and does not block the rest", async () => {
    fleet = await startFleet({ replicas: 1 });
    await writeFiles(fleet.sourceRoot, { "start.txt": "s\n" });
    await waitForConvergence(fleet);
    await writeUnsyncableNames(fleet.sourceRoot);
    await expectOnlyGoodNamesArrive(fleet);
  });
});
