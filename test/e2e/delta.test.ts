// Delta sync end to end: a small edit of a large file re-sends only the chunks around it, and its block list as an edit.
import { randomBytes } from "node:crypto";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { loadShareState, saveShareState } from "../../agent/state/share-state.ts";
import {
  createShare,
  enrollAgent,
  makeTempDir,
  type RunningProcess,
  setAgentHub,
  startAgent,
  startHubProcess,
  type TestHub,
  waitFor,
} from "../support/fleet.ts";
import { hubBlockStats, queryHubDb } from "../support/hub-secrets.ts";
import { startTcpRelay, type TcpRelay } from "../support/tcp-relay.ts";

const MiB = 1024 * 1024;
/** 16 MiB: about 256 content-defined chunks, a whole block list of ~15 KB in JSON (what deltas must not resend). */
const FILE_BYTES = 16 * MiB;

type Counter = { relay: TcpRelay; bytes: number };

/** A relay in front of the hub counting every byte of one agent's connections, both ways (headers included). */
async function countingRelay(hubUrl: string): Promise<Counter> {
  const counter = { bytes: 0 } as Counter;
  counter.relay = await startTcpRelay({
    pickUpstream: () => hubUrl,
    onSockets: (client, upstream) => {
      for (const socket of [client, upstream])
        socket.on("data", (chunk: Buffer) => (counter.bytes += chunk.length));
    },
  });
  return counter;
}

type Measured = {
  hub: TestHub;
  sourceRoot: string;
  replicaRoot: string;
  replicaState: string;
  source: Counter;
  replica: Counter;
  agents: { source: RunningProcess; replica: RunningProcess };
};

let running: { measured: Measured; dirs: string[] } | undefined;
afterEach(async () => {
  if (!running) return;
  const { measured, dirs } = running;
  running = undefined;
  await Promise.all([measured.agents.source.stop(), measured.agents.replica.stop()]);
  await Promise.all([measured.source.relay.close(), measured.replica.relay.close()]);
  await measured.hub.stop();
  for (const dir of [...dirs, measured.hub.dataDir]) await rm(dir, { recursive: true, force: true });
});

/** A hub, a source and a replica whose connections go through counting relays; `original` synced to the replica. */
async function syncedFleet(original: Buffer): Promise<Measured> {
  const hub = await startHubProcess();
  const base = await makeTempDir("fleetsync-delta-");
  const sourceRoot = join(base, "source");
  const replicaRoot = join(base, "replica");
  await Promise.all([mkdir(sourceRoot), mkdir(replicaRoot)]);
  await createShare(hub, "docs");
  const src = await enrollAgent(hub, "docs", "source", sourceRoot);
  const rep = await enrollAgent(hub, "docs", "replica", replicaRoot);
  const source = await countingRelay(hub.url);
  const replica = await countingRelay(hub.url);
  await setAgentHub(src.stateDir, source.relay.url);
  await setAgentHub(rep.stateDir, replica.relay.url);
  await writeFile(join(sourceRoot, "big.bin"), original);
  const agents = { source: startAgent(src.stateDir), replica: startAgent(rep.stateDir) };
  const measured = { hub, sourceRoot, replicaRoot, replicaState: rep.stateDir, source, replica, agents };
  running = { measured, dirs: [base, src.stateDir, rep.stateDir] };
  await untilReplicaHolds(measured, original);
  return measured;
}

async function untilReplicaHolds(fleet: Measured, content: Buffer): Promise<void> {
  await waitFor(
    async () => (await readFile(join(fleet.replicaRoot, "big.bin")).catch(() => undefined))?.equals(content),
    { timeoutMs: 90_000, intervalMs: 100, what: "the file on the replica" },
  );
}

/** Waits until neither agent has sent or received anything for a second (uploads and acks done). */
async function untilQuiet(fleet: Measured): Promise<void> {
  let last = -1;
  let stillSince = Date.now();
  await waitFor(
    () => {
      const now = fleet.source.bytes + fleet.replica.bytes;
      if (now !== last) [last, stillSince] = [now, Date.now()];
      return Date.now() - stillSince >= 1000;
    },
    { timeoutMs: 60_000, intervalMs: 100, what: "the agents' connections to go quiet" },
  );
}

/** The edit's cost: new block bytes on the hub, each agent's bytes on the wire, and the file's whole list in JSON. */
async function measureEdit(fleet: Measured, edited: Buffer) {
  await untilQuiet(fleet);
  const before = await hubBlockStats(fleet.hub.dataDir);
  fleet.source.bytes = 0;
  fleet.replica.bytes = 0;
  await writeFile(join(fleet.sourceRoot, "big.bin"), edited);
  await untilReplicaHolds(fleet, edited);
  await untilQuiet(fleet);
  const uploaded = (await hubBlockStats(fleet.hub.dataDir)).bytes - before.bytes;
  const [row] = await queryHubDb(
    fleet.hub.dataDir,
    "select blocks, block_lengths from entries where path = ?",
    ["big.bin"],
  );
  const listBytes = String(row?.blocks).length + String(row?.block_lengths).length;
  return { uploaded, sourceBytes: fleet.source.bytes, replicaBytes: fleet.replica.bytes, listBytes };
}

function expectEditSized(cost: Awaited<ReturnType<typeof measureEdit>>, original: Buffer) {
  expect(cost.uploaded).toBeGreaterThanOrEqual(4096);
  // Fixed blocks would re-send everything after an insertion (16 MiB); the chunks around an edit are ~100 KiB.
  expect(cost.uploaded).toBeLessThan(original.length / 10);
  expect(cost.listBytes).toBeGreaterThan(10_000);
  // Besides the chunks themselves, each side's reports, instruction and requests cost far less than one whole list
  // (whole lists went twice in the source's reports and once more in the replica's instruction).
  expect(cost.sourceBytes - cost.uploaded).toBeLessThan(cost.listBytes / 2);
  expect(cost.replicaBytes - cost.uploaded).toBeLessThan(cost.listBytes / 2);
}

describe("delta sync of a large file", () => {
  test("a 4 KiB insertion at the start of a 16 MiB file reaches the replica byte-identical, costing the chunks around it and not its block list", async () => {
    const original = randomBytes(FILE_BYTES);
    const fleet = await syncedFleet(original);
    const cost = await measureEdit(fleet, Buffer.concat([randomBytes(4096), original]));
    expectEditSized(cost, original);
  });

  test("a 4 KiB overwrite in the middle of a 16 MiB file reaches the replica, costing the chunks it touched and not its block list", async () => {
    const original = randomBytes(FILE_BYTES);
    const fleet = await syncedFleet(original);
    const edited = Buffer.from(original);
    randomBytes(4096).copy(edited, 8 * MiB);
    const cost = await measureEdit(fleet, edited);
    expectEditSized(cost, original);
  });

  test("a replica that does not hold the version a delta is based on asks for the whole list and still converges", async () => {
    const original = randomBytes(FILE_BYTES);
    const fleet = await syncedFleet(original);
    // The replica's record of its copy no longer names the version the hub knows it has (as after a failed apply).
    await fleet.agents.replica.stop();
    // Through the agent's own state code: a receiver's latest entries may be in its journal, not the state file.
    const state = await loadShareState(fleet.replicaState, "docs");
    const held = state?.index["big.bin"];
    if (!state || !held) throw new Error("the replica's state has no big.bin after the first sync");
    state.index["big.bin"] = { ...held, hash: "0".repeat(64) };
    await saveShareState(fleet.replicaState, "docs", state);
    fleet.agents.replica = startAgent(fleet.replicaState);

    const edited = Buffer.concat([randomBytes(4096), original]);
    await writeFile(join(fleet.sourceRoot, "big.bin"), edited);
    await untilReplicaHolds(fleet, edited);
    expect(fleet.agents.replica.output()).toMatch(
      /blocksFrom names base .*asking the hub for whole block lists/,
    );
  });
});
