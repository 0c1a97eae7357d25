// Two-way figures: peer-to-peer change latency (a change on one peer until it is on the others), and a convergence
// run — many random operations on 3 peers with partitions (a peer stopped and restarted), time until all agree.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  createShare,
  enrollAgent,
  type RunningProcess,
  snapshotTree,
  startAgent,
  startHubProcess,
  waitFor,
} from "../../test/support/fleet.ts";
import { onInterrupt } from "../support/cleanup.ts";
import { log, round, summarize } from "../support/stats.ts";

export type TwoWayOptions = {
  tmpRoot: string;
  peers: number;
  changes: number;
  operations: number;
  debounceMs: number;
};

type Peer = { root: string; stateDir: string; agent?: RunningProcess };

async function startPeers(base: string, count: number, debounceMs: number) {
  const hub = await startHubProcess();
  await createShare(hub, "bench");
  const peers: Peer[] = [];
  for (let i = 0; i < count; i++) {
    const root = join(base, `peer-${i}`);
    const enrolled = await enrollAgent(hub, "bench", "peer", root, { debounceMs, level: "info" });
    peers.push({ root, stateDir: enrolled.stateDir, agent: startAgent(enrolled.stateDir) });
  }
  await Promise.all(
    peers.map((p) =>
      waitFor(() => p.agent!.output().includes("peer ready"), { timeoutMs: 30_000, what: "a peer" }),
    ),
  );
  return {
    hub,
    peers,
    async stop() {
      await Promise.all(peers.map((p) => p.agent?.stop()));
      await hub.stop();
    },
  };
}

async function allAgree(peers: Peer[]): Promise<boolean> {
  const trees = await Promise.all(peers.map((p) => snapshotTree(p.root)));
  return trees.every((t) => JSON.stringify(t) === JSON.stringify(trees[0]));
}

export async function runTwoWay(options: TwoWayOptions) {
  const base = await mkdtemp(join(options.tmpRoot, "fleetsync-bench-two-way-"));
  const forget = onInterrupt(() => rm(base, { recursive: true, force: true }));
  let fleet: Awaited<ReturnType<typeof startPeers>> | undefined;
  try {
    log(
      `two-way: ${options.peers} peers, ${options.changes} changes, then ${options.operations} random operations`,
    );
    fleet = await startPeers(base, options.peers, options.debounceMs);
    const { peers } = fleet;
    await new Promise((r) => setTimeout(r, 1000));

    // Latency: writers take turns; each change is timed until every other peer holds it.
    const latencies: number[] = [];
    for (let i = 0; i < options.changes; i++) {
      const writer = peers[i % peers.length]!;
      const content = `change ${i} ${Date.now()}\n`;
      const name = `latency-${i}.txt`;
      const t0 = performance.now();
      await writeFile(join(writer.root, name), content);
      await waitFor(
        async () => {
          for (const p of peers) {
            if (p === writer) continue;
            if ((await readFile(join(p.root, name), "utf8").catch(() => "")) !== content) return false;
          }
          return true;
        },
        { timeoutMs: 20_000, intervalMs: 5, what: `change ${i} on every peer` },
      );
      latencies.push(performance.now() - t0);
    }

    // Convergence: random writes and deletes over 100 paths on random peers; one peer is cut off for a while.
    let seed = 42;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const cut = peers[peers.length - 1]!;
    let partitions = 0;
    const t0 = performance.now();
    for (let i = 0; i < options.operations; i++) {
      if (i === Math.floor(options.operations / 4)) {
        await cut.agent!.stop();
        partitions++;
      }
      if (i === Math.floor((options.operations * 3) / 4)) cut.agent = startAgent(cut.stateDir);
      const peer = peers[Math.floor(random() * peers.length)]!;
      const path = join(peer.root, `p${Math.floor(random() * 100)}.txt`);
      if (random() < 0.2) await rm(path, { force: true });
      else await writeFile(path, `op ${i} ${random()}\n`);
      if (i % 50 === 0) await new Promise((r) => setTimeout(r, 20));
    }
    const lastOpAt = performance.now();
    await waitFor(() => allAgree(peers), { timeoutMs: 180_000, intervalMs: 250, what: "the peers to agree" });
    const convergedAt = performance.now();
    const tree = await snapshotTree(peers[0]!.root);
    const conflictCopies = Object.keys(tree).filter((p) => p.includes(".sync-conflict-")).length;
    return {
      peers: options.peers,
      latencyMs: summarize(latencies),
      convergence: {
        operations: options.operations,
        partitions,
        operationsSeconds: round((lastOpAt - t0) / 1000, 1),
        secondsToConvergeAfterLastOperation: round((convergedAt - lastOpAt) / 1000, 1),
        filesAtTheEnd: Object.keys(tree).length,
        conflictCopies,
      },
      note: "Syncthing's two-way figures are not measured here (not installed on this machine).",
    };
  } finally {
    await fleet?.stop();
    await rm(base, { recursive: true, force: true });
    forget();
  }
}
