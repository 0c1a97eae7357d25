// One suite, two hubs: the one-way replication scenarios against the Node hub and the Workers build under workerd.
import { randomBytes } from "node:crypto";
import { chmod, mkdir, readdir, readFile, rename, rm, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createClient } from "@libsql/client";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  type Fleet,
  type HubKind,
  listTrash,
  runCliCaptured,
  snapshotTree,
  startAgent,
  startFleet,
  startHubProcess,
  waitFor,
  waitForConvergence,
  writeFiles,
} from "../support/fleet.ts";

/** Share paths of the files in a replica's trash. */
async function trashedFiles(root: string): Promise<string[]> {
  return (await listTrash(root)).filter((item) => item.type === "file").map((item) => item.path);
}

/** Runs one query on a SQLite file workerd keeps under DATA/workers/state (local D1, R2's object metadata). */
async function queryStateFile(file: string, sql: string) {
  const client = createClient({ url: `file:${file}` });
  try {
    return (await client.execute(sql)).rows[0] ?? ({} as Record<string, unknown>);
  } finally {
    client.close();
  }
}

/** Where the Workers hub put its blocks: rows of D1's blocks table, its object_blocks index, and R2 objects. */
async function workersBlockCounts(dataDir: string) {
  const state = join(dataDir, "workers", "state", "v3");
  const d1Dir = join(state, "d1", "miniflare-D1DatabaseObject");
  const d1File = (await readdir(d1Dir)).find((f) => f.endsWith(".sqlite") && f !== "metadata.sqlite");
  if (!d1File) throw new Error(`no local D1 database in ${d1Dir}`);
  const d1 = await queryStateFile(
    join(d1Dir, d1File),
    "select (select count(*) from blocks) as tableRows, (select count(*) from object_blocks) as indexed",
  );
  const r2Dir = join(state, "r2", "miniflare-R2BucketObject");
  const r2File = (await readdir(r2Dir)).find((f) => f.endsWith(".sqlite") && f !== "metadata.sqlite");
  const r2 = r2File
    ? await queryStateFile(
        join(r2Dir, r2File),
        "select count(*) as n from _mf_objects where key like 'blocks/%'",
      )
    : { n: 0 };
  return { tableRows: Number(d1.tableRows), indexed: Number(d1.indexed), r2Objects: Number(r2.n) };
}

/** What the Workers hub's log says its commits woke: parked long-polls and wake sockets, summed over its lines. */
function wokenInLog(output: string) {
  const lines = output.split("\n").filter((line) => line.includes('"long-polls woken"'));
  const sum = (field: string) =>
    lines.reduce((total, line) => total + Number(new RegExp(`"${field}":(\\d+)`).exec(line)?.[1] ?? 0), 0);
  return { longPolls: sum("woken"), sockets: sum("sockets") };
}

/** Changes the source until one commit wakes `count` replicas through their sockets (never, if wake-ups are lost). */
async function expectCommitsWakeSockets(running: Fleet, count: number) {
  let change = 0;
  await waitFor(
    async () => {
      const before = wokenInLog(running.hub.output());
      await writeFiles(running.sourceRoot, { [`change-${++change}.txt`]: `${change}\n` });
      await waitForConvergence(running, 90_000);
      const after = wokenInLog(running.hub.output());
      return after.sockets - before.sockets >= count && after.longPolls === before.longPolls;
    },
    {
      timeoutMs: 120_000,
      intervalMs: 500,
      what: `a commit that wakes ${count} replicas through their sockets`,
    },
  );
}

/** Workers tests start wrangler and workerd: minutes, not seconds, on a shared machine. */
const TIMEOUT_MS = 300_000;

/**
 * One fleet per describe block, its tests run in order on it: a Workers hub start (D1 migrations through wrangler,
 * workerd) costs a minute on CI's loaded 2 cores, and none of these scenarios needs an empty share to start from —
 * each writes its own paths and waits for the whole trees to agree. A test that stops a replica comes last.
 */
function sharedFleet(options: Parameters<typeof startFleet>[0]) {
  const holder: { fleet?: Fleet } = {};
  beforeAll(async () => {
    holder.fleet = await startFleet(options);
  }, TIMEOUT_MS);
  afterAll(async () => {
    await holder.fleet?.stop();
  }, 60_000);
  return () => {
    if (!holder.fleet) throw new Error("the shared fleet did not start (see beforeAll)");
    return holder.fleet;
  };
}

describe.each<HubKind>(["node", "workers"])("one-way replication through the %s hub", (hub) => {
  const shared = sharedFleet({ replicas: 2, hub });
  test(
    "a tree with nested dirs, an empty dir, an executable, a symlink and a 3 MiB file arrives byte-identical",
    async () => {
      const fleet = shared();
      const src = fleet.sourceRoot;
      await writeFiles(src, {
        "notes.txt": "hello fleet\n",
        "nested/deeper/deepest/leaf.conf": "x=1\n",
        "empty.txt": "",
        "with space/file name.txt": "spaces\n",
        "big.bin": randomBytes(3 * 1024 * 1024),
      });
      await mkdir(join(src, "empty-dir"));
      await writeFile(join(src, "run.sh"), "#!/bin/sh\necho hi\n");
      await chmod(join(src, "run.sh"), 0o755);
      await symlink("nested/deeper/deepest/leaf.conf", join(src, "link-to-leaf"));

      await waitForConvergence(fleet, 90_000);
      const tree = await snapshotTree(fleet.replicas[0]!.root);
      expect(tree["run.sh"]?.mode).toBe(0o755);
      expect(tree["link-to-leaf"]).toEqual({
        type: "symlink",
        mode: 0,
        target: "nested/deeper/deepest/leaf.conf",
      });
      expect(tree["empty-dir"]?.type).toBe("dir");
      expect(tree["big.bin"]?.sha256).toBe((await snapshotTree(src))["big.bin"]?.sha256);
      if (hub === "workers") {
        // Blocks land in R2; D1 holds only the index (its 2 MB row limit never sees a block).
        const counts = await workersBlockCounts(fleet.hub.dataDir);
        expect(counts.tableRows).toBe(0);
        expect(counts.indexed).toBeGreaterThan(1);
        expect(counts.r2Objects).toBe(counts.indexed);
      }
    },
    TIMEOUT_MS,
  );

  test(
    "modify, rename and delete are mirrored, and the replaced and deleted files wait in the replica's trash",
    async () => {
      const fleet = shared();
      const src = fleet.sourceRoot;
      await writeFiles(src, {
        "a.txt": "version 1\n",
        "dir/b.txt": "bee\n",
        "gone.txt": "delete me\n",
        "big.dat": randomBytes(3_000_000),
      });
      await waitForConvergence(fleet, 90_000);

      await writeFile(join(src, "a.txt"), "version 2, longer\n");
      await rm(join(src, "gone.txt"));
      await rename(join(src, "big.dat"), join(src, "dir/moved.dat"));
      await waitForConvergence(fleet, 90_000);
      for (const replica of fleet.replicas) {
        expect(await readFile(join(replica.root, "a.txt"), "utf8")).toBe("version 2, longer\n");
        expect(await readdir(join(replica.root, "dir"))).toContain("moved.dat");
        const trash = await trashedFiles(replica.root);
        expect(trash).toContain("gone.txt");
        expect(trash).toContain("a.txt");
      }
    },
    TIMEOUT_MS,
  );

  test(
    "a commit wakes the replicas at once (on Workers through their hibernating wake sockets to the share's Durable Object)",
    async () => {
      const fleet = shared();
      await writeFiles(fleet.sourceRoot, { "first.txt": "1\n" });
      await waitForConvergence(fleet, 90_000);
      if (hub === "workers") {
        // Each replica opened its socket: on Workers nothing of theirs is parked as a long-poll.
        for (const replica of fleet.replicas) {
          await waitFor(() => replica.agent.output().includes("wake-up socket open"), {
            timeoutMs: 60_000,
            what: "the replica's wake-up socket",
          });
        }
        await expectCommitsWakeSockets(fleet, 2);
      }
    },
    TIMEOUT_MS,
  );

  test(
    "a replica that was offline during changes catches up when it returns",
    async () => {
      const fleet = shared();
      await writeFiles(fleet.sourceRoot, { "one.txt": "1\n" });
      await waitForConvergence(fleet, 90_000);
      const offline = fleet.replicas[1]!;
      await offline.agent.stop();

      await writeFiles(fleet.sourceRoot, { "two.txt": "2\n", "sub/three.txt": "3\n" });
      await rm(join(fleet.sourceRoot, "one.txt"));
      await waitFor(
        async () =>
          JSON.stringify(await snapshotTree(fleet.replicas[0]!.root)) ===
          JSON.stringify(await snapshotTree(fleet.sourceRoot)),
        { what: "the online replica", timeoutMs: 90_000 },
      );
      expect(await readdir(offline.root)).toContain("one.txt");

      offline.agent = startAgent(offline.stateDir);
      await waitForConvergence(fleet, 90_000);
    },
    TIMEOUT_MS,
  );
});

describe("wake sockets on the Workers hub", () => {
  const shared = sharedFleet({ replicas: 2, hub: "workers" });
  test(
    "a change committed while workerd restarts (every wake socket dropped) still reaches the replicas, which go back to their sockets",
    async () => {
      const fleet = shared();
      await writeFiles(fleet.sourceRoot, { "first.txt": "1\n" });
      await waitForConvergence(fleet, 90_000);
      await expectCommitsWakeSockets(fleet, 2);

      const port = Number(new URL(fleet.hub.url).port);
      await fleet.hub.stop();
      await writeFiles(fleet.sourceRoot, { "while-down.txt": "committed after the restart\n" });
      fleet.hub = await startHubProcess(fleet.hub.dataDir, {}, port, "workers");
      await waitForConvergence(fleet, 120_000);
      for (const replica of fleet.replicas) {
        expect(await readFile(join(replica.root, "while-down.txt"), "utf8")).toBe(
          "committed after the restart\n",
        );
        expect(replica.agent.output()).toContain("wake-up socket to the hub is down");
      }
      // Reconnected: the next commit reaches both through their sockets again, not through long-polls.
      await expectCommitsWakeSockets(fleet, 2);
    },
    TIMEOUT_MS,
  );

  test(
    "a replica that comes back more than one instruction behind catches up at once, not at the next commit",
    async () => {
      const fleet = shared();
      const replica = fleet.replicas[0]!;
      await writeFiles(fleet.sourceRoot, { "second.txt": "2\n" });
      await waitForConvergence(fleet, 90_000);
      await replica.agent.stop();
      const before = await shareHead(fleet);
      // Empty files: more entries than one instruction holds (2,000 operations), and no blocks to move.
      const files: Record<string, string> = {};
      for (let i = 0; i < 2100; i++) files[`d${i % 20}/f${i}`] = "";
      await writeFiles(fleet.sourceRoot, files);
      await waitFor(async () => (await shareHead(fleet).catch(() => 0)) >= before + 2120, {
        timeoutMs: 120_000,
        intervalMs: 1000,
        what: "the source to report all 2,100 files and their 20 directories",
      });
      // Nothing is committed from here on: the second instruction must come without a wake-up (the agent once
      // waited for the 5-minute safety poll after each one). The other replica stayed online throughout.
      replica.agent = startAgent(replica.stateDir);
      await waitForConvergence(fleet, 90_000);
      expect(replica.agent.output()).not.toContain("wake-up socket to the hub is down");
    },
    TIMEOUT_MS,
  );
});

/** The share's head sequence, as `fleetsync share show --json` prints it. */
async function shareHead(running: Fleet): Promise<number> {
  const shown = await runCliCaptured(["share", "show", running.share, ...hubArgs(running), "--json"]);
  if (shown.code !== 0) throw new Error(`share show failed: ${shown.stderr}`);
  return (JSON.parse(shown.stdout) as { head: number }).head;
}

const hubArgs = (running: Fleet) => ["--hub", running.hub.url, "--admin-token", running.hub.adminToken];
