// One-way replication with real processes: a hub, one source and replicas in temp directories on 127.0.0.1.
import { randomBytes } from "node:crypto";
import { chmod, lstat, mkdir, readdir, readFile, rename, rm, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import {
  type Fleet,
  listTrash,
  ON_WORKERS_HUB,
  runCli,
  snapshotTree,
  startAgent,
  waitFor,
  waitForConvergence,
  writeFiles,
} from "../support/fleet.ts";
import { hubBlockStats, queryHubDb } from "../support/hub-secrets.ts";
import { setMtime } from "../support/set-mtime.ts";
import { useSharedHubFleets } from "../support/shared-hub-fleets.ts";

/** One hub for this file's tests, each fleet on it with a share of its own. */
const startFleet = useSharedHubFleets();

let fleet: Fleet | undefined;
afterEach(async () => {
  await fleet?.stop();
  fleet = undefined;
});

/** Share paths of the files in a replica's trash. */
async function trashedFiles(root: string): Promise<string[]> {
  return (await listTrash(root)).filter((item) => item.type === "file").map((item) => item.path);
}

describe("one-way replication", () => {
  test("a tree with nested dirs, empty file and dir, Unicode and space names, a symlink, an executable and a 50 MB file arrives byte-identical", async () => {
    fleet = await startFleet({ replicas: 2 });
    const src = fleet.sourceRoot;
    await writeFiles(src, {
      "notes.txt": "hello fleet\n",
      "nested/deeper/deepest/leaf.conf": "x=1\n",
      "empty.txt": "",
      "Grüße — ünïcödé ✓.txt": "unicode\n",
      "with space/file name.txt": "spaces\n",
      "big.bin": randomBytes(50 * 1024 * 1024),
    });
    await mkdir(join(src, "empty-dir"));
    await writeFile(join(src, "run.sh"), "#!/bin/sh\necho hi\n");
    await chmod(join(src, "run.sh"), 0o755);
    await chmod(join(src, "notes.txt"), 0o600);
    await symlink("nested/deeper/deepest/leaf.conf", join(src, "link-to-leaf"));
    await setMtime(join(src, "notes.txt"), Date.parse("2024-01-02T03:04:05.678Z"));

    // Under local workerd each 128 KiB block is one R2 object, which Miniflare stores one at a time (~17 ms each
    // when idle): on a starved 2-core machine its ~650 block uploads and their downloads alone took 56-62 s, with no error.
    await waitForConvergence(fleet, ON_WORKERS_HUB ? 150_000 : 60_000);
    const tree = await snapshotTree(fleet.replicas[0]!.root);
    expect(tree["run.sh"]?.mode).toBe(0o755);
    expect(tree["notes.txt"]?.mode).toBe(0o600);
    expect(tree["notes.txt"]?.mtimeMs).toBe(Date.parse("2024-01-02T03:04:05.678Z"));
    expect(tree["link-to-leaf"]).toEqual({
      type: "symlink",
      mode: 0,
      target: "nested/deeper/deepest/leaf.conf",
    });
    expect(tree["empty-dir"]?.type).toBe("dir");
    expect(tree["empty.txt"]?.type).toBe("file");
    expect(tree["Grüße — ünïcödé ✓.txt"]?.type).toBe("file");
    expect(tree["big.bin"]?.sha256).toBe((await snapshotTree(src))["big.bin"]?.sha256);
    expect(Object.keys(tree)).not.toContain(".fleetsync");
  }, 240_000);

  test("modify, rename and delete are mirrored, and the deleted file waits in the replica's trash", async () => {
    fleet = await startFleet({ replicas: 2 });
    const src = fleet.sourceRoot;
    await writeFiles(src, {
      "a.txt": "version 1\n",
      "dir/b.txt": "bee\n",
      "gone.txt": "delete me\n",
      "big.dat": randomBytes(3_000_000),
    });
    await waitForConvergence(fleet);

    await writeFile(join(src, "a.txt"), "version 2, longer\n");
    await rm(join(src, "gone.txt"));
    await waitForConvergence(fleet);
    for (const replica of fleet.replicas) {
      expect(await readFile(join(replica.root, "a.txt"), "utf8")).toBe("version 2, longer\n");
      const trash = await trashedFiles(replica.root);
      expect(trash).toContain("gone.txt");
      expect(trash).toContain("a.txt");
    }

    const blocksBefore = await hubBlockStats(fleet.hub.dataDir);
    expect(blocksBefore.n).toBeGreaterThan(0);
    const reportsBefore = (fleet.source.agent.output().match(/"changes reported"/g) ?? []).length;
    await rename(join(src, "big.dat"), join(src, "dir/moved.dat"));
    await waitForConvergence(fleet);
    // The rename re-sent no content: the hub already had every block of moved.dat.
    await waitFor(
      () => (fleet!.source.agent.output().match(/"changes reported"/g) ?? []).length > reportsBefore,
    );
    const lastReport = fleet.source.agent
      .output()
      .split("\n")
      .filter((l) => l.includes('"changes reported"'))
      .at(-1);
    expect(lastReport).toContain('"uploadedBlocks":0');
    expect(await hubBlockStats(fleet.hub.dataDir)).toEqual(blocksBefore);
  });

  test("a replica that was offline during changes catches up when it returns", async () => {
    fleet = await startFleet({ replicas: 2 });
    await writeFiles(fleet.sourceRoot, { "one.txt": "1\n" });
    await waitForConvergence(fleet);
    const offline = fleet.replicas[1]!;
    await offline.agent.stop();

    await writeFiles(fleet.sourceRoot, { "two.txt": "2\n", "sub/three.txt": "3\n" });
    await rm(join(fleet.sourceRoot, "one.txt"));
    await waitFor(
      async () =>
        JSON.stringify(await snapshotTree(fleet!.replicas[0]!.root)) ===
        JSON.stringify(await snapshotTree(fleet!.sourceRoot)),
      {
        what: "the online replica",
      },
    );
    expect(await readdir(offline.root)).toContain("one.txt");

    offline.agent = startAgent(offline.stateDir);
    await waitForConvergence(fleet);
  });

  test("a source whose root disappears (unmounted disk) deletes nothing on the replicas", async () => {
    fleet = await startFleet({ replicas: 1 });
    await writeFiles(fleet.sourceRoot, { "keep/me.txt": "precious\n", "and-me.txt": "also\n" });
    await waitForConvergence(fleet);
    const before = await snapshotTree(fleet.replicas[0]!.root);

    await rm(fleet.sourceRoot, { recursive: true, force: true });
    await waitFor(() => /root .* is missing/.test(fleet!.source.agent.output()), {
      what: "the source to notice",
    });
    await mkdir(fleet.sourceRoot); // an empty mount point without the marker
    await new Promise((resolve) => setTimeout(resolve, 1500));

    expect(await snapshotTree(fleet.replicas[0]!.root)).toEqual(before);
    const head = await queryHubDb(fleet.hub.dataDir, "select head_seq from shares where name = ?", [
      fleet.share,
    ]);
    expect(Number(head[0]?.head_seq)).toBe(3);
  });

  test("a share with deletes: keep never deletes on its replicas", async () => {
    fleet = await startFleet({ replicas: 1, deletes: "keep" });
    await writeFiles(fleet.sourceRoot, { "stay.txt": "stay\n" });
    await waitForConvergence(fleet);
    await rm(join(fleet.sourceRoot, "stay.txt"));
    await writeFiles(fleet.sourceRoot, { "new.txt": "new\n" });
    await waitFor(async () => (await readdir(fleet!.replicas[0]!.root)).includes("new.txt"), {
      what: "new.txt",
    });
    expect(await readFile(join(fleet.replicas[0]!.root, "stay.txt"), "utf8")).toBe("stay\n");
  });

  test("a local edit on a replica is overwritten by the next change and its copy kept in trash", async () => {
    fleet = await startFleet({ replicas: 1 });
    await writeFiles(fleet.sourceRoot, { "config.ini": "a=1\n" });
    await waitForConvergence(fleet);
    const replica = fleet.replicas[0]!;
    await writeFile(join(replica.root, "config.ini"), "local edit\n");
    await writeFile(join(fleet.sourceRoot, "config.ini"), "a=2\n");
    await waitForConvergence(fleet);
    const trash = await listTrash(replica.root);
    expect(trash).toContainEqual({ path: "config.ini", type: "file", content: "local edit\n" });
  });

  test("a replica edited while its agent was down is restored at start", async () => {
    fleet = await startFleet({ replicas: 1 });
    await writeFiles(fleet.sourceRoot, { hosts: "127.0.0.1 a\n" });
    await waitForConvergence(fleet);
    const replica = fleet.replicas[0]!;
    await replica.agent.stop();
    await writeFile(join(replica.root, "hosts"), "tampered by hand\n");
    replica.agent = startAgent(replica.stateDir);
    await waitForConvergence(fleet);
  });

  test("a replica's periodic rescan restores a file edited by hand while its agent runs", async () => {
    fleet = await startFleet({ replicas: 1, replica: { rescanMinutes: 0.02 } });
    await writeFiles(fleet.sourceRoot, { "dnsmasq.conf": "server=1.1.1.1\n" });
    await waitForConvergence(fleet);
    const replica = fleet.replicas[0]!;
    await writeFile(join(replica.root, "dnsmasq.conf"), "server=6.6.6.6 # edited on the replica\n");
    await waitForConvergence(fleet, 20_000);
    expect(replica.agent.output()).toContain("local changes found on a replica");
  });

  test("a restarted source re-sends nothing the hub already has", async () => {
    fleet = await startFleet({ replicas: 1 });
    await writeFiles(fleet.sourceRoot, { "a.txt": "a\n", "b/c.txt": "c\n" });
    await waitForConvergence(fleet);
    const before = await queryHubDb(
      fleet.hub.dataDir,
      "select count(*) as n from sync_runs where kind = 'report'",
    );
    await fleet.source.agent.stop();
    fleet.source.agent = startAgent(fleet.source.stateDir);
    await waitFor(() => fleet!.source.agent.output().includes("agent started"), {
      what: "the source to start",
    });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const after = await queryHubDb(
      fleet.hub.dataDir,
      "select count(*) as n from sync_runs where kind = 'report'",
    );
    expect(after[0]?.n).toBe(before[0]?.n);
    expect(fleet.source.agent.output()).not.toContain("changes reported");
  });

  test("a source that lost its state uploads none of the content the hub already has", async () => {
    fleet = await startFleet({ replicas: 1 });
    await writeFiles(fleet.sourceRoot, {
      "one.bin": randomBytes(3 * 1024 * 1024),
      "d/two.bin": randomBytes(2 * 1024 * 1024),
      "d/small.txt": "small\n",
    });
    await waitForConvergence(fleet);
    await fleet.source.agent.stop();
    const sharesDir = join(fleet.source.stateDir, "shares");
    for (const name of await readdir(sharesDir))
      if (name.startsWith(`${fleet.share}.`)) await rm(join(sharesDir, name), { force: true });
    fleet.source.agent = startAgent(fleet.source.stateDir);
    await waitFor(() => fleet!.source.agent.output().includes('"full scan finished"'), {
      what: "the rebuilt source's first full scan",
      timeoutMs: 60_000,
    });
    const reports = fleet.source.agent
      .output()
      .split("\n")
      .filter((l) => l.includes('"changes reported"'))
      .map((l) => JSON.parse(l) as { entries: number; uploadedBytes: number });
    expect(reports.reduce((sum, r) => sum + r.entries, 0)).toBeGreaterThanOrEqual(3);
    expect(reports.map((r) => r.uploadedBytes)).toEqual(reports.map(() => 0));
  });

  test("changes made while the source was down are reported at its start", async () => {
    fleet = await startFleet({ replicas: 1 });
    await writeFiles(fleet.sourceRoot, { "a.txt": "a\n" });
    await waitForConvergence(fleet);
    await fleet.source.agent.stop();
    await writeFiles(fleet.sourceRoot, { "while-down.txt": "offline edit\n" });
    await rm(join(fleet.sourceRoot, "a.txt"));
    fleet.source.agent = startAgent(fleet.source.stateDir);
    await waitForConvergence(fleet);
  });

  test("ignored paths and the .fleetsync folder never leave the source", async () => {
    fleet = await startFleet({ replicas: 1, source: { ignore: ["*.log", "cache/"] } });
    await writeFiles(fleet.sourceRoot, {
      "app.conf": "x\n",
      "debug.log": "noise\n",
      "cache/blob": "tmp\n",
      "sub/keep.txt": "k\n",
    });
    await writeFiles(fleet.sourceRoot, { ".fleetsync/private": "never\n" });
    await waitFor(async () => (await readdir(fleet!.replicas[0]!.root)).includes("sub"), { what: "sub/" });
    await waitFor(
      async () =>
        (await readdir(join(fleet!.replicas[0]!.root, "sub")).catch(() => [] as string[])).includes(
          "keep.txt",
        ),
      { what: "keep.txt" },
    );
    const tree = await snapshotTree(fleet.replicas[0]!.root);
    expect(Object.keys(tree).sort()).toEqual(["app.conf", "sub", "sub/keep.txt"]);
    expect(
      await lstat(join(fleet.replicas[0]!.root, ".fleetsync", "private")).catch(() => undefined),
    ).toBeUndefined();
  });

  test("a dry-run replica logs what it would do, writes nothing, and the hub records the run once", async () => {
    fleet = await startFleet({ replicas: 1, replica: { dryRun: true } });
    await writeFiles(fleet.sourceRoot, { "would-arrive.txt": "dry\n", "dir/also.txt": "dry\n" });
    const replica = fleet.replicas[0]!;
    await waitFor(() => replica.agent.output().includes("dry run: would create would-arrive.txt"), {
      what: "the dry-run log",
    });
    expect((await snapshotTree(replica.root))["would-arrive.txt"]).toBeUndefined();
    const runs = () =>
      queryHubDb(fleet!.hub.dataDir, "select count(*) as n from sync_runs where kind = 'dry-run'");
    await waitFor(async () => Number((await runs())[0]?.n) === 1, { what: "one dry-run row" });

    await replica.agent.stop();
    replica.agent = startAgent(replica.stateDir);
    await waitFor(() => replica.agent.output().includes("no changes since last dry run"), {
      what: "the repeat note",
    });
    expect(Number((await runs())[0]?.n)).toBe(1);
  });

  test("agent status shows role, files, cursor and lag per share", async () => {
    fleet = await startFleet({ replicas: 1 });
    await writeFiles(fleet.sourceRoot, { "a.txt": "a\n", "b.txt": "bb\n" });
    await waitForConvergence(fleet);
    const status = await runCli(["agent", "status", "--state", fleet.replicas[0]!.stateDir, "--json"]);
    expect(status.code).toBe(0);
    const parsed = JSON.parse(status.output) as {
      shares: { role: string; files: number; bytes: number; lag: number; cursor: number; head: number }[];
    };
    expect(parsed.shares[0]).toMatchObject({ role: "replica", files: 2, bytes: 5, lag: 0 });
    expect(parsed.shares[0]!.cursor).toBe(parsed.shares[0]!.head);
  });
});
