// Sources must report exactly what is on disk: never invent an empty share, never miss a change made at start-up.
import { readdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, expect, test } from "vitest";
import {
  type Fleet,
  listTrash,
  makeTempDir,
  runCliCaptured,
  snapshotTree,
  startAgent,
  startFleet,
  updateAgentConfig,
  waitFor,
  waitForConvergence,
  writeFiles,
} from "../support/fleet.ts";
import { queryHubDb } from "../support/hub-secrets.ts";

let fleet: Fleet | undefined;
const extra: string[] = [];
afterEach(async () => {
  await fleet?.stop().catch(() => {});
  for (const dir of extra.splice(0)) await rm(dir, { recursive: true, force: true });
  fleet = undefined;
});

async function headOf(f: Fleet): Promise<number> {
  const [row] = await queryHubDb(f.hub.dataDir, "select head_seq from shares where name = ?", [f.share]);
  return Number(row?.head_seq);
}

test("a source whose folder does not exist is refused with a clear line, and the folder is not created", async () => {
  fleet = await startFleet({ replicas: 1 });
  await fleet.source.agent.stop();
  const missing = join(await makeTempDir("fleetsync-missing-"), "not-there");
  extra.push(join(missing, ".."));
  await updateAgentConfig(fleet.source.stateDir, (config) => {
    config.shares[fleet!.share]!.path = missing;
  });
  await rm(join(fleet.source.stateDir, "shares"), { recursive: true, force: true });
  fleet.source.agent = startAgent(fleet.source.stateDir);
  await waitFor(() => fleet!.source.agent.output().includes(`root ${missing} does not exist`), {
    what: "the refusal",
  });
  expect(fleet.source.agent.output()).toContain("a source shares an existing folder");
  expect(await readdir(join(missing, "..")).catch(() => [])).toEqual([]);
  expect(await headOf(fleet)).toBe(0);
});

test("a damaged source state file is moved aside and rebuilt: nothing is re-sent, and new changes still sync", async () => {
  fleet = await startFleet({ replicas: 1 });
  await writeFiles(fleet.sourceRoot, { "a.txt": "a\n", "d/b.txt": "b\n", "d/e/c.txt": "c\n" });
  await waitForConvergence(fleet);
  const head = await headOf(fleet);
  await fleet.source.agent.stop();
  const file = join(fleet.source.stateDir, "shares", `${fleet.share}.json`);
  await writeFile(file, "{ not json at all");
  fleet.source.agent = startAgent(fleet.source.stateDir);
  await waitFor(() => fleet!.source.agent.output().includes(`state file ${file} is damaged`), {
    what: "the damaged-state line naming the file",
  });
  await writeFiles(fleet.sourceRoot, { "after.txt": "after the rebuild\n" });
  await waitForConvergence(fleet);
  // One new entry: the rebuilt index re-reported what the hub already had as no change at all.
  expect(await headOf(fleet)).toBe(head + 1);
  const moved = (await readdir(join(fleet.source.stateDir, "shares"))).filter((n) => n.includes(".damaged-"));
  expect(moved).toHaveLength(1);
  expect(fleet.source.agent.proc.exitCode).toBeNull();
});

test("changes made while a source agent is starting are reported at once, over many restarts", async () => {
  fleet = await startFleet({ replicas: 0, source: { rescanMinutes: 0, level: "info" } });
  // A tree big enough that the start-up scan and the watcher's own walk take a while and overlap.
  const tree: Record<string, string> = {};
  for (let d = 0; d < 300; d++) for (let f = 0; f < 8; f++) tree[`dir${d}/file${f}.txt`] = `${d}/${f}\n`;
  await writeFiles(fleet.sourceRoot, tree);
  const expectOnHub = async (paths: string[], timeoutMs = 60_000) =>
    waitFor(
      async () => {
        const rows = await queryHubDb(
          fleet!.hub.dataDir,
          `select path from entries where type = 'file' and path in (${paths.map(() => "?").join(",")})`,
          paths,
        );
        return rows.length === paths.length;
      },
      { timeoutMs, what: `the hub to have ${paths.join(", ")}` },
    );
  await expectOnHub(["dir299/file7.txt"], 60_000);

  // The scan walks directories last-listed first, the watcher first-listed first: the last ones listed are
  // scanned early and watched late, so changes there are what a watcher started alongside the scan misses.
  const order = (await readdir(fleet.sourceRoot)).filter((name) => name.startsWith("dir"));
  const lateWatched = order.slice(-60);
  for (let round = 0; round < 8; round++) {
    await fleet.source.agent.stop();
    fleet.source.agent = startAgent(fleet.source.stateDir);
    await waitFor(() => fleet!.source.agent.output().includes("agent started"), {
      intervalMs: 5,
      what: "the agent start",
    });
    const made: string[] = [];
    for (let i = 0; i < 30; i++) {
      const path = `${lateWatched[(round * 7 + i * 2) % lateWatched.length]}/race-${round}-${i}.txt`;
      await writeFile(join(fleet.sourceRoot, path), `round ${round}, write ${i}\n`);
      made.push(path);
      await new Promise((resolve) => setTimeout(resolve, 15));
    }
    await expectOnHub(made);
  }
}, 600_000);

async function liveEntries(f: Fleet): Promise<number> {
  const [row] = await queryHubDb(
    f.hub.dataDir,
    "select count(*) as n from entries where share = ? and type != 'deleted'",
    [f.share],
  );
  return Number(row?.n);
}

async function emptyRoot(root: string): Promise<void> {
  for (const name of await readdir(root)) {
    if (name !== ".fleetsync") await rm(join(root, name), { recursive: true, force: true });
  }
}

test("emptying a source root (marker kept) deletes nothing anywhere until someone confirms it", async () => {
  fleet = await startFleet({ replicas: 1 });
  const files: Record<string, string> = {};
  for (let i = 0; i < 12; i++) files[`docs/file-${i}.txt`] = `${i}\n`;
  await writeFiles(fleet.sourceRoot, files);
  await waitForConvergence(fleet);
  const replica = fleet.replicas[0]!;

  await emptyRoot(fleet.sourceRoot);
  await waitFor(() => /would delete 13 of 13 entries of share docs/.test(fleet!.source.agent.output()), {
    what: "the source to say the mass delete is held",
  });
  const admin = ["--hub", fleet.hub.url, "--admin-token", fleet.hub.adminToken];
  const shown = await runCliCaptured(["share", "show", fleet.share, "--json", ...admin]);
  expect(JSON.parse(shown.stdout).heldDelete).toMatchObject({ deletes: 13, live: 13 });
  const status = await runCliCaptured(["agent", "status", "--state", fleet.source.stateDir, "--json"]);
  expect(JSON.parse(status.stdout).shares[0].lastError).toMatch(/fleetsync share confirm-delete docs/);
  // Nothing was deleted: not on the hub, not on the replica.
  expect(await liveEntries(fleet)).toBe(13);
  expect(Object.keys(await snapshotTree(replica.root))).toHaveLength(13);

  const confirmed = await runCliCaptured(["share", "confirm-delete", fleet.share, ...admin]);
  expect(confirmed.code).toBe(0);
  await waitForConvergence(fleet, 40_000);
  expect(await snapshotTree(replica.root)).toEqual({});
  expect((await listTrash(replica.root)).map((t) => t.path)).toContain("docs/file-0.txt");
});

test("a mass delete spread over several reports is held as a whole, not let through slice by slice", async () => {
  fleet = await startFleet({ replicas: 0 });
  // 5,000 entries: a source reports at most 2,000 per request, and 2,000 of 5,000 alone is no mass delete.
  const files: Record<string, string> = {};
  for (let d = 0; d < 50; d++) for (let f = 0; f < 99; f++) files[`d${d}/f${f}.txt`] = `${d}.${f}\n`;
  await writeFiles(fleet.sourceRoot, files);
  await waitFor(async () => (await liveEntries(fleet!)) === 5000, {
    timeoutMs: 150_000,
    what: "all 5,000 entries on the hub",
  });
  await emptyRoot(fleet.sourceRoot);
  // Rescanning 50 emptied directories and reporting 5,000 deletes in slices: CI's loaded 2 cores once took over 30 s.
  await waitFor(() => /would delete 5000 of 5000 entries/.test(fleet!.source.agent.output()), {
    timeoutMs: 90_000,
    what: "the hold",
  });
  expect(await liveEntries(fleet)).toBe(5000);
}, 300_000);

test("a directory of more entries than one report holds, replaced by a file, is reported and committed", async () => {
  fleet = await startFleet({ replicas: 0 });
  const files: Record<string, string> = {};
  for (let f = 0; f < 2100; f++) files[`big/f${String(f).padStart(4, "0")}.txt`] = `${f}\n`;
  await writeFiles(fleet.sourceRoot, files);
  await waitFor(async () => (await liveEntries(fleet!)) === 2101, {
    timeoutMs: 60_000,
    what: "2,101 entries",
  });
  // Deleting 2,100 of 2,101 entries is a mass delete: confirm it, as a person would, before making it.
  const admin = ["--hub", fleet.hub.url, "--admin-token", fleet.hub.adminToken];
  expect((await runCliCaptured(["share", "confirm-delete", fleet.share, ...admin])).code).toBe(0);
  await rm(join(fleet.sourceRoot, "big"), { recursive: true });
  await writeFile(join(fleet.sourceRoot, "big"), "now a file\n");
  await waitFor(
    async () => {
      const [row] = await queryHubDb(fleet!.hub.dataDir, "select type from entries where path = 'big'");
      return row?.type === "file" && (await liveEntries(fleet!)) === 1;
    },
    { timeoutMs: 60_000, what: "big to be a file with nothing live below it" },
  );
  // A refused report would log its status; a device id may hold the digits 422 (dev_…be422b…), so a word.
  expect(fleet.source.agent.output()).not.toMatch(/\b422\b/);
}, 180_000);
