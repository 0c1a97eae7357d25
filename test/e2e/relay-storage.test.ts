// A relay share with a real hub and real agents: the hub drops blocks once every replica has them, a new replica gets them re-uploaded by the source, and waits (saying why) while the source is offline.
import { randomBytes } from "node:crypto";
import { mkdir, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { createClient } from "@libsql/client";
import { afterEach, describe, expect, test } from "vitest";
import {
  adminCall,
  enrollAgent,
  makeTempDir,
  ON_WORKERS_HUB,
  type RunningProcess,
  runCliCaptured,
  snapshotTree,
  startAgent,
  startHubProcess,
  type TestHub,
  waitFor,
  writeFiles,
} from "../support/fleet.ts";
import { hubBlockStats } from "../support/hub-secrets.ts";

type BlockStoreKind = "pack" | "file" | "db" | "r2";
/** The Node hub's three block stores; the Workers build (FLEETSYNC_TEST_HUB=workers) has one, R2. */
const STORES: BlockStoreKind[] = ON_WORKERS_HUB ? ["r2"] : ["pack", "file", "db"];

const running: RunningProcess[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop()));
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

/**
 * The blocks the hub holds: rows of the pack index and pack files still on disk (pack store: dropped blocks only
 * count as gone once their space is reclaimed), files under DATA/blocks (file store), rows of the blocks table (db
 * store), R2 objects.
 */
async function storedBlocks(hub: TestHub, store: BlockStoreKind): Promise<number> {
  if (store === "r2") return (await hubBlockStats(hub.dataDir)).n;
  if (store === "db" || store === "pack") {
    const client = createClient({ url: `file:${join(hub.dataDir, "hub.db")}` });
    try {
      const table = store === "db" ? "blocks" : "pack_blocks";
      const { rows } = await client.execute(`select count(*) as n from ${table}`);
      const packs = await readdir(join(hub.dataDir, "packs")).catch(() => [] as string[]);
      return Number(rows[0]?.n ?? 0) + (store === "pack" ? packs.length : 0);
    } finally {
      client.close();
    }
  }
  const dir = join(hub.dataDir, "blocks");
  let count = 0;
  for (const prefix of await readdir(dir).catch(() => [] as string[])) {
    if (prefix === "tmp") continue;
    count += (await readdir(join(dir, prefix)).catch(() => [] as string[])).length;
  }
  return count;
}

/** A hub with a relay share "media", a source over a few small files (one of three blocks) and one replica. */
async function relayFleet(store: BlockStoreKind) {
  const hubDir = await makeTempDir("fleetsync-relay-hub-");
  dirs.push(hubDir);
  // The Node hub keeps blocks in pack files with its embedded database (or in files, asked to), in the database's
  // table with FLEETSYNC_DB_URL.
  const env =
    store === "db"
      ? { FLEETSYNC_DB_URL: `file:${join(hubDir, "hub.db")}` }
      : store === "file"
        ? { FLEETSYNC_BLOCK_STORE: "file" }
        : {};
  const hub = await startHubProcess(hubDir, env);
  running.push(hub);
  await adminCall(hub, "POST", "/v1/admin/shares", { name: "media", storage: "relay" });
  const base = await makeTempDir("fleetsync-relay-");
  dirs.push(base);
  const sourceRoot = join(base, "source");
  await mkdir(sourceRoot);
  await writeFiles(sourceRoot, {
    "film.bin": randomBytes(300 * 1024),
    "notes/cast.txt": "the cast list",
  });
  const source = await enrollAgent(hub, "media", "source", sourceRoot);
  const sourceAgent = { current: startAgent(source.stateDir) };
  running.push(sourceAgent.current);
  const replicaRoot = join(base, "replica");
  const replica = await enrollAgent(hub, "media", "replica", replicaRoot);
  running.push(startAgent(replica.stateDir));
  await waitForSame(sourceRoot, replicaRoot);
  return { hub, base, sourceRoot, source, sourceAgent };
}

async function waitForSame(want: string, got: string, timeoutMs = 60_000) {
  await waitFor(
    async () => {
      const a = JSON.stringify(await snapshotTree(want));
      const b = await snapshotTree(got).catch(() => undefined);
      return b !== undefined && JSON.stringify(b) === a;
    },
    { timeoutMs, intervalMs: 100, what: `${got} to match ${want} byte for byte` },
  );
}

async function waitForNoBlocks(hub: TestHub, store: BlockStoreKind) {
  await waitFor(async () => (await storedBlocks(hub, store)) === 0, {
    timeoutMs: 30_000,
    intervalMs: 200,
    what: "the hub to drop every block of the relay share",
  });
}

describe.each(STORES)("a relay share on the hub's %s block store", (store) => {
  test("drops every block once the replica acknowledged, and has the source upload them again for a new replica that converges byte-identical", {
    timeout: 120_000,
  }, async () => {
    const { hub, base, sourceRoot, sourceAgent } = await relayFleet(store);
    await waitForNoBlocks(hub, store);
    // They were stored, and went by the relay rule.
    await waitFor(() => /dropped acknowledged blocks.*"dropped":[1-9]/.test(hub.output()), {
      timeoutMs: 10_000,
      what: "the hub to log the blocks it dropped",
    });

    const newcomerRoot = join(base, "newcomer");
    const newcomer = await enrollAgent(hub, "media", "replica", newcomerRoot);
    const agent = startAgent(newcomer.stateDir);
    running.push(agent);

    await waitForSame(sourceRoot, newcomerRoot);
    expect(sourceAgent.current.output()).toMatch(/uploaded blocks again that the hub had dropped/);
    // The newcomer said it was whole: what it waited for goes too.
    await waitForNoBlocks(hub, store);
  });
});

test("a new replica whose blocks only an offline source holds waits and says why, then converges once the source is back", {
  timeout: 120_000,
}, async () => {
  const store = STORES[0]!;
  const { hub, base, sourceRoot, source, sourceAgent } = await relayFleet(store);
  await waitForNoBlocks(hub, store);
  await sourceAgent.current.stop();

  const newcomerRoot = join(base, "newcomer");
  const newcomer = await enrollAgent(hub, "media", "replica", newcomerRoot);
  const agent = startAgent(newcomer.stateDir);
  running.push(agent);

  const why =
    /waiting for a member that holds block [0-9a-f]{12} of (film\.bin|notes\/cast\.txt) to come online and re-upload it/;
  await waitFor(() => why.test(agent.output()), {
    timeoutMs: 30_000,
    intervalMs: 100,
    what: "the new replica to log why it waits",
  });
  await waitFor(
    async () => {
      const status = await runCliCaptured(["agent", "status", "--state", newcomer.stateDir, "--json"]);
      const share = (JSON.parse(status.stdout) as { shares: { lastError: string | null }[] }).shares[0];
      return why.test(share?.lastError ?? "");
    },
    { timeoutMs: 30_000, intervalMs: 500, what: "agent status to say why the new replica waits" },
  );
  // Nothing half-written in the meantime: the files that wait are simply not there yet.
  expect(Object.keys(await snapshotTree(newcomerRoot))).not.toContain("film.bin");

  sourceAgent.current = startAgent(source.stateDir);
  running.push(sourceAgent.current);

  await waitForSame(sourceRoot, newcomerRoot);
  await waitForNoBlocks(hub, store);
});
