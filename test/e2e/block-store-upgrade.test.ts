// A hub that kept one file per block (DATA/blocks) restarts on the pack store: it serves every old block, and new ones go to packs.
import { randomBytes } from "node:crypto";
import { mkdir, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, expect, test } from "vitest";
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

test.skipIf(ON_WORKERS_HUB)(
  "a hub restarted from the file store onto the pack store serves a new replica every old block while the source is offline",
  { timeout: 120_000 },
  async () => {
    const hubDir = await makeTempDir("fleetsync-upgrade-hub-");
    const base = await makeTempDir("fleetsync-upgrade-");
    dirs.push(hubDir, base);
    const before = await startHubProcess(hubDir, { FLEETSYNC_BLOCK_STORE: "file" });
    running.push(before);
    await adminCall(before, "POST", "/v1/admin/shares", { name: "docs" });
    const sourceRoot = join(base, "source");
    await mkdir(sourceRoot);
    await writeFiles(sourceRoot, {
      "big.bin": randomBytes(3 * 1024 * 1024),
      "small.bin": randomBytes(200 * 1024),
      "notes/readme.txt": "stored before the upgrade",
    });
    const source = await enrollAgent(before, "docs", "source", sourceRoot);
    const sourceAgent = startAgent(source.stateDir);
    running.push(sourceAgent);
    const firstRoot = join(base, "first");
    const first = await enrollAgent(before, "docs", "replica", firstRoot);
    const firstAgent = startAgent(first.stateDir);
    running.push(firstAgent);
    await waitForSame(sourceRoot, firstRoot);
    const oldFiles = await blockFiles(hubDir);
    expect(oldFiles).toBeGreaterThan(2);
    await Promise.all([sourceAgent.stop(), firstAgent.stop()]);
    const port = Number(new URL(before.url).port);
    await before.stop();

    // The default store now: old blocks stay where they are and are still served.
    const after = await startHubProcess(hubDir, {}, port);
    running.push(after);
    expect(after.output()).toMatch(/"blockStore":"pack"/);
    const newcomerRoot = join(base, "newcomer");
    const newcomer = await enrollAgent(after, "docs", "replica", newcomerRoot);
    running.push(startAgent(newcomer.stateDir));
    await waitForSame(sourceRoot, newcomerRoot);

    // New content goes to packs; the old block files are left as they were.
    running.push(startAgent(source.stateDir));
    await writeFiles(sourceRoot, { "new.bin": randomBytes(500 * 1024) });
    await waitForSame(sourceRoot, newcomerRoot);
    const [packed] = await queryHubDb(hubDir, "select count(*) as n from pack_blocks");
    expect(Number(packed?.n)).toBeGreaterThan(0);
    expect(await blockFiles(hubDir)).toBe(oldFiles);
  },
);
