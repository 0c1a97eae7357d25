// A property-based model of two-way shares: random edits on 2–4 peers, random partitions (who syncs when) and
// delivery orders, run through the real scanner, planner, executor (on the in-memory filesystem) and the hub's real
// resolution of concurrent changes. Every member converges to one tree, nothing the executor replaced is lost,
// the result does not depend on the order of the final syncs, and a quiet share stays quiet.
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { resolveConcurrent } from "../../hub/services/resolve-concurrent.ts";
import type { BlockFrame } from "../../shared/blocks/block-frames.ts";
import {
  type Entry,
  isSameEntry,
  type ReportedEntry,
  type SequencedEntry,
} from "../../shared/protocol/entry.ts";
import { hashBytes } from "../blocks/hash-blocks.ts";
import { executeOperations } from "../kinds/folder/apply/execute-operations.ts";
import { PERMISSION_BITS } from "../kinds/folder/apply/plan-operation.ts";
import { createMemoryShareFs, type MemoryShareFs } from "../kinds/folder/fs/memory-share-fs.ts";
import { compileIgnoreRules } from "../kinds/folder/scan/ignore-rules.ts";
import { scanShare } from "../kinds/folder/scan/scan-share.ts";
import type { AgentLogger } from "../log/agent-logger.ts";
import { type IndexEntry, indexEntryToEntry } from "../state/share-state.ts";
import { type DeferredOps, deferredOps, recordDeferred, settleReported } from "./deferred-ops.ts";

const quiet: AgentLogger = { debug() {}, info() {}, warn() {}, error() {}, child: () => quiet };
const noIgnores = compileIgnoreRules([]);
const NOW = Date.parse("2026-12-01T12:00:00Z");

/** The hub's part, reduced to what two-way needs: rows per path, one sequence, the real resolution. */
class HubModel {
  rows = new Map<string, { entry: Entry; seq: number; deviceId: string }>();
  head = 0;
  blocks = new Map<string, Uint8Array>();

  names = new Map<string, string>();

  report(device: { id: string; name: string }, reported: ReportedEntry[]): void {
    this.names.set(device.id, device.name);
    for (const { baseSeq, ...entry } of reported) {
      const version = this.rows.get(entry.path);
      const concurrent =
        baseSeq !== undefined &&
        version !== undefined &&
        version.seq !== baseSeq &&
        version.deviceId !== device.id;
      const commit = concurrent
        ? resolveConcurrent({
            reported: { entry, deviceId: device.id, deviceName: device.name },
            current: {
              entry: version.entry,
              deviceId: version.deviceId,
              deviceName: this.names.get(version.deviceId)!,
            },
            policy: "keep-both",
            nowMs: NOW,
            isTaken: (path) => {
              const row = this.rows.get(path);
              return row !== undefined && row.entry.type !== "deleted";
            },
          }).commit
        : [{ entry, deviceId: device.id }];
      for (const item of commit) {
        const existing = this.rows.get(item.entry.path);
        const resend = "resend" in item && item.resend === true;
        if (!resend && (existing ? isSameEntry(existing.entry, item.entry) : item.entry.type === "deleted"))
          continue;
        this.rows.set(item.entry.path, { entry: item.entry, seq: ++this.head, deviceId: item.deviceId });
      }
    }
  }

  since(cursor: number): SequencedEntry[] {
    return [...this.rows.values()].filter((r) => r.seq > cursor).map((r) => ({ ...r.entry, seq: r.seq }));
  }

  fetchBlocks = async function* (this: HubModel, hashes: string[]): AsyncGenerator<BlockFrame> {
    for (const hash of hashes) {
      const bytes = this.blocks.get(hash);
      if (bytes) yield { hash, bytes };
    }
  };
}

type Member = {
  id: string;
  name: string;
  fs: MemoryShareFs;
  index: Record<string, IndexEntry>;
  /** What this member deferred for its own unreported changes (as the session keeps it). */
  deferred: DeferredOps;
  cursor: number;
  peer: boolean;
  /** This member's clock offset (a peer an hour behind writes mtimes an hour old). */
  skewMs: number;
  ticks: number;
};

function member(i: number, peer: boolean, skewMs: number): Member {
  return {
    id: `dev-${i}`,
    name: `m${i}`,
    fs: createMemoryShareFs({ nowMs: NOW }),
    index: {},
    deferred: {},
    cursor: 0,
    peer,
    skewMs,
    ticks: 0,
  };
}

/** The sending side: scan, report with base versions, keep the index as the agent does. */
async function send(hub: HubModel, m: Member): Promise<void> {
  const scan = await scanShare(m.fs, m.index, [""], noIgnores, quiet);
  for (const [path, entry] of scan.updates) if (!scan.changed.has(path) && entry) m.index[path] = entry;
  const reported: ReportedEntry[] = [];
  for (const path of [...scan.changed].sort()) {
    const entry = indexEntryToEntry(path, scan.updates.get(path));
    if (entry.type === "file") {
      const bytes = new TextEncoder().encode(m.fs.text(path) ?? "");
      const hashes = await hashBytes(bytes);
      hashes.blocks.forEach((hash, i) => {
        hub.blocks.set(hash, bytes.subarray(i * hashes.blockSize, (i + 1) * hashes.blockSize));
      });
    }
    reported.push({ ...entry, baseSeq: m.index[path]?.seq ?? 0 });
  }
  if (reported.length > 0) hub.report({ id: m.id, name: m.name }, reported);
  settleReported(m.deferred, scan.changed);
  for (const path of scan.changed) {
    const next = scan.updates.get(path);
    const seq = m.index[path]?.seq;
    if (next) m.index[path] = seq === undefined ? next : { ...next, seq };
    else delete m.index[path];
  }
}

/**
 * The receiving side: the deferred operations again (the session's retry, which comes after the member's own
 * report), then everything after the cursor, through the real executor; returns what it replaced.
 */
async function receive(hub: HubModel, m: Member): Promise<{ replaced: string[] }> {
  const retried = deferredOps(m.deferred);
  const ops = hub.since(m.cursor);
  if (ops.length === 0 && retried.length === 0) return { replaced: [] };
  const before = userFiles(m);
  if (retried.length > 0) recordDeferred(m.deferred, retried, await execute(hub, m, retried));
  recordDeferred(m.deferred, ops, await execute(hub, m, ops));
  m.cursor = hub.head;
  const after = userFiles(m);
  return {
    replaced: Object.entries(before)
      .filter(([p, c]) => after[p] !== c)
      .map(([, c]) => c),
  };
}

async function execute(hub: HubModel, m: Member, ops: SequencedEntry[]) {
  const results = await executeOperations(
    {
      fs: m.fs,
      deletes: "propagate",
      modeMask: PERMISSION_BITS,
      unreportedLocalChange: m.peer ? "report" : "overwrite",
      dryRun: false,
      index: m.index,
      fetchBlocks: hub.fetchBlocks.bind(hub),
      log: quiet,
    },
    ops,
  );
  expect(results.filter((r) => !r.ok)).toEqual([]);
  return results;
}

function userFiles(m: Member): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [path, type] of Object.entries(m.fs.tree())) {
    if (type === "file" && !path.startsWith(".fleetsync")) out[path] = m.fs.text(path)!;
  }
  return out;
}
function trashContents(m: Member): string[] {
  return Object.entries(m.fs.tree())
    .filter(([path, type]) => type === "file" && path.startsWith(".fleetsync/trash/"))
    .map(([path]) => m.fs.text(path)!);
}

type Command =
  | { kind: "write"; who: number; path: string; content: string }
  | { kind: "delete"; who: number; path: string }
  | { kind: "send"; who: number }
  | { kind: "receive"; who: number };

const PATHS = ["a.txt", "b.txt", "notes"];
const commandArb = (peers: number): fc.Arbitrary<Command> =>
  fc.oneof(
    fc.record({
      kind: fc.constant("write" as const),
      who: fc.nat(peers - 1),
      path: fc.constantFrom(...PATHS),
      content: fc.string({ minLength: 1, maxLength: 6 }),
    }),
    fc.record({
      kind: fc.constant("delete" as const),
      who: fc.nat(peers - 1),
      path: fc.constantFrom(...PATHS),
    }),
    fc.record({ kind: fc.constant("send" as const), who: fc.nat(peers - 1) }),
    fc.record({ kind: fc.constant("receive" as const), who: fc.nat(peers) }),
  );

/** Runs the commands, then syncs everyone (in `order`) until nothing moves; returns the members and what moved. */
async function simulate(peers: number, skews: number[], commands: Command[], order: "forward" | "reverse") {
  const hub = new HubModel();
  const members = [
    ...Array.from({ length: peers }, (_, i) => member(i, true, skews[i] ?? 0)),
    member(peers, false, 0),
  ];
  const replacedEverywhere: { who: Member; content: string }[] = [];
  const doReceive = async (m: Member) => {
    for (const content of (await receive(hub, m)).replaced) replacedEverywhere.push({ who: m, content });
  };
  for (const c of commands) {
    const m = members[c.who]!;
    if (c.kind === "write") {
      m.ticks += 1000;
      m.fs.put(c.path, c.content, { mtimeMs: NOW + m.ticks + m.skewMs });
    } else if (c.kind === "delete") await m.fs.remove(c.path);
    else if (c.kind === "send") await send(hub, m);
    else await doReceive(m);
  }
  // Reconnecting: every peer reports what it holds, then the instructions are delivered in `order`.
  const delivery = order === "forward" ? members : [...members].reverse();
  let rounds = 0;
  for (; rounds < 12; rounds++) {
    const headBefore = hub.head;
    for (const m of members) if (m.peer) await send(hub, m);
    for (const m of delivery) await doReceive(m);
    const settled = members.every((m) => m.cursor === hub.head && deferredOps(m.deferred).length === 0);
    if (hub.head === headBefore && settled) break;
  }
  return { hub, members, rounds, replacedEverywhere };
}

describe("two-way model", () => {
  test("a peer that deferred another's version for its own new file, then deleted that file unreported, gets the other's version", async () => {
    // Found by the property below: the deferred operation was forgotten once the cursor moved past it.
    const commands: Command[] = [
      { kind: "write", who: 1, path: "notes", content: "mine" },
      { kind: "write", who: 0, path: "notes", content: "theirs" },
      { kind: "send", who: 0 },
      { kind: "receive", who: 1 },
      { kind: "delete", who: 1, path: "notes" },
    ];
    for (const order of ["forward", "reverse"] as const) {
      const run = await simulate(2, [0, 0], commands, order);
      for (const m of run.members) expect(userFiles(m)).toEqual({ notes: "theirs" });
      expect(run.members.every((m) => Object.keys(m.deferred).length === 0)).toBe(true);
    }
  });

  test("random edits, partitions and delivery orders on 2–4 peers: one tree everywhere, nothing lost, order-independent, then quiet", async () => {
    let withConflicts = 0;
    let withReplaced = 0;
    await fc.assert(
      fc.asyncProperty(
        fc
          .integer({ min: 2, max: 4 })
          .chain((peers) =>
            fc.tuple(
              fc.constant(peers),
              fc.array(fc.constantFrom(0, -3_600_000), { minLength: peers, maxLength: peers }),
              fc.array(commandArb(peers), { maxLength: 60 }),
            ),
          ),
        async ([peers, skews, commands]) => {
          const run = await simulate(peers, skews, commands, "forward");
          expect(run.rounds).toBeLessThan(12);
          const trees = run.members.map(userFiles);
          if (Object.keys(trees[0]!).some((p) => p.includes(".sync-conflict-"))) withConflicts++;
          if (run.replacedEverywhere.length > 0) withReplaced++;
          for (const tree of trees) expect(tree).toEqual(trees[0]);
          // Whatever the executor replaced or removed on a member is in that member's trash (or still in the tree).
          for (const { who, content } of run.replacedEverywhere) {
            expect([...trashContents(who), ...Object.values(userFiles(who))]).toContain(content);
          }
          // The same history, its instructions delivered in the other order, settles on the same tree.
          const other = await simulate(peers, skews, commands, "reverse");
          expect(userFiles(other.members[0]!)).toEqual(trees[0]);
          // A quiet share: one more round of syncing changes nothing.
          const head = run.hub.head;
          for (const m of run.members) {
            if (m.peer) await send(run.hub, m);
            await receive(run.hub, m);
          }
          expect(run.hub.head).toBe(head);
        },
      ),
      { numRuns: 300 },
    );
    // The property saw the cases that matter, not only quiet histories. Of 300 random histories 19–48 end with a
    // conflict copy and 28–48 replace something (seen over CI and local runs): 10 is a floor that says "enough of
    // them", not a figure a lucky seed misses (CI once saw 19 against the old floor of 20).
    expect(withConflicts).toBeGreaterThan(10);
    expect(withReplaced).toBeGreaterThan(10);
  }, 120_000);
});
