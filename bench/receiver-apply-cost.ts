// `tsx bench/receiver-apply-cost.ts [--entries N]`: CPU time of applying one small instruction to a receiver whose index holds N entries, with the lookup index and with a plain record (the old walks), as JSON.
import { parseArgs } from "node:util";
import { hashBytes } from "../agent/blocks/hash-blocks.ts";
import { type ExecuteContext, executeOperations } from "../agent/kinds/folder/apply/execute-operations.ts";
import { PERMISSION_BITS } from "../agent/kinds/folder/apply/plan-operation.ts";
import { createMemoryShareFs } from "../agent/kinds/folder/fs/memory-share-fs.ts";
import type { AgentLogger } from "../agent/log/agent-logger.ts";
import { indexRecord } from "../agent/state/index-record.ts";
import { ReceiverIndex } from "../agent/state/receiver-index.ts";
import type { IndexEntry } from "../agent/state/share-state.ts";
import type { SequencedEntry } from "../shared/protocol/entry.ts";

const { values } = parseArgs({ options: { entries: { type: "string", default: "100000" } } });
const entries = Number(values.entries);
const quiet: AgentLogger = { debug() {}, info() {}, warn() {}, error() {}, child: () => quiet };
const hex = (n: number) => n.toString(16).padStart(64, "0");

/** An index of `entries` files in 100 directories (stat facts only: nothing is on disk for them). */
function indexEntries(): [string, IndexEntry][] {
  const out: [string, IndexEntry][] = [];
  for (let i = 0; i < entries; i++)
    out.push([
      `d${i % 100}/f${i}.bin`,
      {
        type: "file",
        size: 1000,
        mtimeMs: 1,
        ino: i + 10,
        mode: 0o644,
        blockSize: 131072,
        blocks: [hex(i)],
        hash: hex(i + 1),
      },
    ]);
  return out;
}

async function measure(kind: "lookup index" | "plain record (old walks)") {
  const list = indexEntries();
  const index =
    kind === "lookup index" ? indexRecord(ReceiverIndex.fromEntries(list)) : Object.fromEntries(list);
  const fs = createMemoryShareFs();
  const blocks = new Map<string, Uint8Array>();
  const ctx: ExecuteContext = {
    fs,
    deletes: "propagate",
    modeMask: PERMISSION_BITS,
    unreportedLocalChange: "overwrite",
    dryRun: false,
    index,
    fetchBlocks: async function* (hashes) {
      for (const hash of hashes) if (blocks.has(hash)) yield { hash, bytes: blocks.get(hash)! };
    },
    log: quiet,
  };
  const rounds = 30;
  let cpuUs = 0;
  for (let r = 0; r < rounds; r++) {
    const bytes = new TextEncoder().encode(`change ${r}\n`);
    const h = await hashBytes(bytes);
    for (const block of h.blocks) blocks.set(block, bytes);
    const ops: SequencedEntry[] = [
      {
        path: `new-${r}.txt`,
        type: "file",
        size: h.size,
        mode: 0o644,
        mtimeMs: 5,
        blockSize: h.blockSize,
        blocks: h.blocks,
        hash: h.hash,
        seq: 2 * r + 1,
      },
      // a deleted directory that holds nothing here: the old code walked every key to forget what was below it
      {
        path: `gone-${r}`,
        type: "deleted",
        size: 0,
        mode: 0,
        mtimeMs: 0,
        blockSize: 131072,
        blocks: [],
        hash: "",
        seq: 2 * r + 2,
      },
    ];
    const before = process.cpuUsage();
    await executeOperations(ctx, ops);
    const used = process.cpuUsage(before);
    cpuUs += used.user + used.system;
  }
  return { kind, entries, rounds, cpuMsPerInstruction: Math.round(cpuUs / rounds / 10) / 100 };
}

const results = [];
for (const kind of ["plain record (old walks)", "lookup index"] as const) results.push(await measure(kind));
console.log(JSON.stringify(results, null, 1));
