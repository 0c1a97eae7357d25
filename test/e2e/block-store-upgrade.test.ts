// A hub restarted on another block store (file → pack, the default now, and back) serves every block the old one kept.
import { randomBytes } from "node:crypto";
import { mkdir, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import {
  adminCall,
  enrollAgent,
  makeTempDir,
  ON_WORKERS_HUB,
  type RunningProcess,
  snapshotTree,
  startAgent,
  startHubProcess,
  waitFor,
  writeFiles,
} from "../support/fleet.ts";
import { queryHubDb } from "../support/hub-secrets.ts";

const running: RunningProcess[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop()));
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function waitForSame(want: string, got: string) {
  const expected = JSON.stringify(await snapshotTree(want, { hashes: true }));
  await waitFor(
    async () => JSON.stringify(await snapshotTree(got, { hashes: true }).catch(() => undefined)) === expected,
    { timeoutMs: 60_000, intervalMs: 100, what: `${got} to match ${want} byte for byte` },
  );
}

async function blockFiles(dataDir: string): Promise<number> {
  let count = 0;
  for (const prefix of await readdir(join(dataDir, "blocks")).catch(() => [] as string[])) {
    if (prefix !== "tmp") count += (await readdir(join(dataDir, "blocks", prefix))).length;
  }
  return count;
}

const MOVES = [
  { from: "file", to: "pack", oldBlocks: blockFiles, newBlocks: packedRows },
  { from: "pack", to: "file", oldBlocks: packedRows, newBlocks: blockFiles },
] as const;

async function packedRows(dataDir: string): Promise<number> {
  const [row] = await queryHubDb(dataDir, "select count(*) as n from pack_blocks");
  return Number(row?.n ?? 0);
}

describe.skipIf(ON_WORKERS_HUB).each(MOVES)(
  "from the $from store to the $to store",
  ({ from, to, oldBlocks, newBlocks }) => {
    test("a restarted hub serves a new replica every old block while the source is offline, and stores new ones in the new store", {
      timeout: 120_000,
    }, async () => {
      const hubDir = await makeTempDir("fleetsync-upgrade-hub-");
      const base = await makeTempDir("fleetsync-upgrade-");
      dirs.push(hubDir, base);
      const before = await startHubProcess(hubDir, { FLEETSYNC_BLOCK_STORE: from });
      running.push(before);
      expect(before.output()).toContain(`"blockStore":"${from}"`);
      await adminCall(before, "POST", "/v1/admin/shares", { name: "docs" });
      const sourceRoot = join(base, "source");
      await mkdir(sourceRoot);
      await writeFiles(sourceRoot, {
        "big.bin": randomBytes(3 * 1024 * 1024),
        "small.bin": randomBytes(200 * 1024),
        "notes/readme.txt": "stored before the move",
      });
      const source = await enrollAgent(before, "docs", "source", sourceRoot);
      const sourceAgent = startAgent(source.stateDir);
      running.push(sourceAgent);
      const firstRoot = join(base, "first");
      const first = await enrollAgent(before, "docs", "replica", firstRoot);
      const firstAgent = startAgent(first.stateDir);
      running.push(firstAgent);
      await waitForSame(sourceRoot, firstRoot);
      const kept = await oldBlocks(hubDir);
      expect(kept).toBeGreaterThan(2);
      expect(await newBlocks(hubDir)).toBe(0);
      await Promise.all([sourceAgent.stop(), firstAgent.stop()]);
      const port = Number(new URL(before.url).port);
      await before.stop();

      const after = await startHubProcess(hubDir, { FLEETSYNC_BLOCK_STORE: to }, port);
      running.push(after);
      expect(after.output()).toContain(`"blockStore":"${to}"`);
      const newcomerRoot = join(base, "newcomer");
      const newcomer = await enrollAgent(after, "docs", "replica", newcomerRoot);
      running.push(startAgent(newcomer.stateDir));
      await waitForSame(sourceRoot, newcomerRoot);

      // New content goes to the new store; the old one's blocks are left as they were.
      running.push(startAgent(source.stateDir));
      await writeFiles(sourceRoot, { "new.bin": randomBytes(500 * 1024) });
      await waitForSame(sourceRoot, newcomerRoot);
      expect(await newBlocks(hubDir)).toBeGreaterThan(0);
      expect(await oldBlocks(hubDir)).toBe(kept);
    });
  },
);

test.skipIf(ON_WORKERS_HUB)("a hub started without --block-store uses the pack store", async () => {
  const hubDir = await makeTempDir("fleetsync-default-store-");
  dirs.push(hubDir);
  const hub = await startHubProcess(hubDir, { FLEETSYNC_BLOCK_STORE: "" });
  running.push(hub);
  expect(hub.output()).toContain('"blockStore":"pack"');
});
