// Two Node hub processes over one libSQL database file behind a loopback round-robin: agents spread over both converge, and sequences stay unique and gap-free.
import { access, mkdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { createClient } from "@libsql/client";
import { afterEach, expect, test } from "vitest";
import {
  createShare,
  enrollAgent,
  makeTempDir,
  ON_WORKERS_HUB,
  type RunningProcess,
  snapshotTree,
  spawnCli,
  startAgent,
  type TestHub,
  waitFor,
  writeFiles,
} from "../support/fleet.ts";
import { startTcpRelay } from "../support/tcp-relay.ts";

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

/** A hub process whose database is `dbFile` (FLEETSYNC_DB_URL), with a data dir of its own (one hub per data dir). */
async function startSharedHub(dataDir: string, dbFile: string): Promise<RunningProcess & { url: string }> {
  const running = spawnCli(["hub", "--data", dataDir, "--port", "0"], {
    env: { FLEETSYNC_DB_URL: `file:${dbFile}` },
  });
  cleanups.push(() => running.stop());
  const url = await waitFor(
    () => {
      if (running.proc.exitCode !== null) throw new Error(`hub exited: ${running.output()}`);
      return /ready at (http:\/\/\S+)/.exec(running.output())?.[1];
    },
    { timeoutMs: 30_000, what: "a hub process to start" },
  );
  return { ...running, url };
}

/** A TCP round-robin on 127.0.0.1: each new connection goes to the next upstream in turn. */
async function startRoundRobin(upstreams: string[]) {
  const connections = upstreams.map(() => 0);
  let next = 0;
  const relay = await startTcpRelay({
    pickUpstream: () => {
      const index = next++ % upstreams.length;
      connections[index]!++;
      return upstreams[index]!;
    },
  });
  cleanups.push(relay.close);
  return { url: relay.url, connections };
}

test("two hub processes over one database file: agents spread over both converge on changes made through either, with unique, gap-free sequences", async ({
  skip,
}) => {
  skip(ON_WORKERS_HUB, "two Node hub processes over one libSQL file; Workers isolates share D1 by design");
  const base = await makeTempDir("fleetsync-two-hubs-");
  cleanups.push(() => rm(base, { recursive: true, force: true }));
  const dbFile = join(base, "shared", "hub.db");
  await mkdir(join(base, "shared"));
  const first = await startSharedHub(join(base, "hub-1"), dbFile);
  const second = await startSharedHub(join(base, "hub-2"), dbFile);
  // The admin token was made once, by the first start; the second found its hash in the database.
  const adminToken = (await readFile(join(base, "hub-1", "admin.token"), "utf8")).trim();
  await expect(access(join(base, "hub-2", "admin.token"))).rejects.toThrow();
  // One hub identity: the same signing keys from either process.
  const jwks = await Promise.all(
    [first, second].map(async (h) => (await fetch(new URL("/.well-known/jwks.json", h.url))).json()),
  );
  expect(jwks[1]).toEqual(jwks[0]);

  const proxy = await startRoundRobin([first.url, second.url]);
  const via = (url: string, running: RunningProcess): TestHub => ({
    ...running,
    url,
    dataDir: base,
    adminToken,
  });
  await createShare(via(proxy.url, first), "docs");

  // Peer A talks to the first process only, peer B to the second; the replicas go through the round-robin.
  const roots = {
    a: join(base, "peer-a"),
    b: join(base, "peer-b"),
    ...Object.fromEntries([1, 2, 3, 4].map((i) => [`r${i}`, join(base, `replica-${i}`)])),
  } as Record<string, string>;
  for (const root of Object.values(roots)) await mkdir(root);
  const agents: RunningProcess[] = [];
  const enrolled = [
    await enrollAgent(via(first.url, first), "docs", "peer", roots.a!),
    await enrollAgent(via(second.url, second), "docs", "peer", roots.b!),
  ];
  for (const i of [1, 2, 3, 4]) {
    enrolled.push(await enrollAgent(via(proxy.url, first), "docs", "replica", roots[`r${i}`]!));
  }
  for (const e of enrolled) {
    const agent = startAgent(e.stateDir);
    agents.push(agent);
    cleanups.push(() => agent.stop());
  }

  const allRoots = Object.values(roots);
  const expected: Record<string, string> = {};
  const converged = async () => {
    const want = Object.keys(expected).sort();
    for (const root of allRoots) {
      const tree = await snapshotTree(root).catch(() => undefined);
      if (!tree) return false;
      const files = Object.keys(tree)
        .filter((p) => !p.startsWith(".fleetsync"))
        .sort();
      if (JSON.stringify(files) !== JSON.stringify(want)) return false;
      for (const path of want) {
        const content = await readFile(join(root, path), "utf8").catch(() => undefined);
        if (content !== expected[path]) return false;
      }
    }
    return true;
  };
  // Waves of changes made at the same moment through both processes: their commits race for the next sequences.
  for (let wave = 1; wave <= 4; wave++) {
    const fromA = { [`a-${wave}.txt`]: `from peer A through hub 1, wave ${wave}\n` };
    const fromB = { [`b-${wave}.txt`]: `from peer B through hub 2, wave ${wave}\n` };
    Object.assign(expected, fromA, fromB);
    await Promise.all([writeFiles(roots.a!, fromA), writeFiles(roots.b!, fromB)]);
    // Well under the agents' 25 s long-poll: a change must reach the other process's waiters by a wake-up.
    await waitFor(converged, {
      timeoutMs: 20_000,
      intervalMs: 100,
      what: `every agent to have wave ${wave} from both peers`,
    }).catch((error: Error) => {
      throw new Error(
        `${error.message}\nhub 1:\n${first.output().slice(-3000)}\nhub 2:\n${second.output().slice(-3000)}`,
      );
    });
  }
  // The replicas' connections were spread over both processes.
  expect(proxy.connections.every((n) => n > 0)).toBe(true);

  const db = createClient({ url: `file:${dbFile}` });
  cleanups.push(async () => db.close());
  const head = Number(
    (await db.execute("select head_seq from shares where name = 'docs'")).rows[0]?.head_seq,
  );
  const seqs = (await db.execute("select seq from entries where share = 'docs' order by seq")).rows.map((r) =>
    Number(r.seq),
  );
  // Eight new files, each committed once: sequences 1..8, no number twice, none skipped.
  expect(head).toBe(8);
  expect(seqs).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  const runs = (
    await db.execute(
      "select from_seq, to_seq from sync_runs where share = 'docs' and kind = 'report' order by from_seq",
    )
  ).rows.map((r) => [Number(r.from_seq), Number(r.to_seq)] as const);
  let reached = 0;
  for (const [from, to] of runs) {
    expect(from).toBe(reached + 1);
    reached = to;
  }
  expect(reached).toBe(head);
}, 240_000);
