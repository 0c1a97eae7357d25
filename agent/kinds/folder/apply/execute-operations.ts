// The doing half of applying: gathers what is on disk, asks the planner, and carries the plan out through the port.
import { blockLayoutProblem } from "../../../../shared/blocks/block-spans.ts";
import { FleetsyncError } from "../../../../shared/errors/fleetsync-error.ts";
import type { SequencedEntry } from "../../../../shared/protocol/entry.ts";
import type { OperationResult } from "../../../../shared/protocol/messages.ts";
import { contentHashSync } from "../../../blocks/hash-blocks.ts";
import type { AgentLogger } from "../../../log/agent-logger.ts";
import { forgetAtOrBelow, localBlockFinder } from "../../../state/index-record.ts";
import type { IndexEntry } from "../../../state/share-state.ts";
import type { FetchBlocks, ShareIndex } from "../../share-kind.ts";
import { baseName, errnoOf, FsError, type FsStat, parentOf, type ShareFs } from "../fs/share-fs.ts";
import { isTempName, newTempName } from "../fs/temp-name.ts";
import { hashFile } from "../scan/hash-file.ts";
import { BlockPrefetcher } from "./block-prefetcher.ts";
import {
  type ApplyPolicy,
  type LocalFacts,
  orderOperations,
  type PlannedAction,
  planOperation,
} from "./plan-operation.ts";
import { copyToTrash, moveToTrash, trashStamp } from "./trash.ts";
import { type LocalBlocks, writeTempFile } from "./write-file-atomically.ts";

export type ExecuteContext = ApplyPolicy & {
  fs: ShareFs;
  dryRun: boolean;
  /** The session's index: what is applied is recorded here, what is removed forgotten. */
  index: ShareIndex;
  fetchBlocks: FetchBlocks;
  onDone?: (op: SequencedEntry, bytes: number) => void;
  log: AgentLogger;
  signal?: AbortSignal;
  now?: () => Date;
};

/** How many files are written at once (each ends in an fsync, so overlapping them pays). */
const FILE_CONCURRENCY = 8;

type Run = { stamp: string; localBlocks: LocalBlocks; renamedInto: Set<string> };

/**
 * Applies `ops` (any order; they are put in apply order) and returns one result per operation attempted. A failed
 * operation does not stop the others; an aborted run returns fewer results than operations.
 */
export async function executeOperations(
  given: ExecuteContext,
  ops: SequencedEntry[],
): Promise<OperationResult[]> {
  // One run keeps the directory handles it opens (checked before each use), instead of opening each ancestor per call.
  const kept = given.fs.forRun?.();
  try {
    return await executeWith(kept ? { ...given, fs: kept.fs } : given, ops);
  } finally {
    await kept?.close();
  }
}

async function executeWith(ctx: ExecuteContext, ops: SequencedEntry[]): Promise<OperationResult[]> {
  const localBlocks = localBlockFinder(ctx.index);
  const run: Run = {
    stamp: trashStamp((ctx.now ?? (() => new Date()))()),
    localBlocks,
    renamedInto: new Set(),
  };
  const results: OperationResult[] = [];
  const ordered = orderOperations(ops);
  const prefetcher = new BlockPrefetcher(
    ctx.fs,
    ordered,
    ctx.index,
    localBlocks,
    ctx.fetchBlocks,
    ctx.signal,
  );
  const applyOne = async (op: SequencedEntry, prefetched: Map<string, Uint8Array>) => {
    try {
      const action = await applyOperation(ctx, run, op, prefetched);
      ctx.onDone?.(op, action === "create" || action === "update" ? op.size : 0);
      results.push({
        seq: op.seq,
        path: op.path,
        action,
        ok: true,
        bytes: action === "create" || action === "update" ? op.size : 0,
      });
      if (ctx.dryRun && action !== "unchanged") {
        ctx.log.info(`dry run: would ${action} ${op.path}`, {
          seq: op.seq,
          bytes: op.type === "file" ? op.size : 0,
        });
      } else if (action !== "unchanged" && action !== "skip" && action !== "defer") {
        ctx.log.info(`${action} ${op.path}`, {
          seq: op.seq,
          ...(op.type === "file" ? { bytes: op.size } : {}),
        });
      }
    } catch (error) {
      ctx.onDone?.(op, 0);
      const reason = describeFailure(error, op.path);
      ctx.log.warn("operation failed; will retry", { path: op.path, seq: op.seq, error: reason });
      results.push({
        seq: op.seq,
        path: op.path,
        action: op.type === "deleted" ? "delete" : "write",
        ok: false,
        bytes: 0,
        error: reason,
      });
    }
  };
  // Files run up to FILE_CONCURRENCY at a time so their fsyncs overlap; anything else runs alone, in order.
  const inFlight = new Set<Promise<void>>();
  for (const [position, op] of ordered.entries()) {
    if (ctx.signal?.aborted) break;
    const concurrent = op.type === "file" && !ctx.dryRun;
    if (!concurrent) await Promise.all(inFlight);
    let prefetched: Map<string, Uint8Array>;
    try {
      prefetched = concurrent ? await prefetcher.blocksFor(position) : new Map();
    } catch {
      prefetched = new Map(); // the file fetches its own blocks and reports the failure itself
    }
    const task: Promise<void> = applyOne(op, prefetched).finally(() => inFlight.delete(task));
    inFlight.add(task);
    if (!concurrent) await task;
    else if (inFlight.size >= FILE_CONCURRENCY) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  await prefetcher.settle();
  // Renames are durable once their directories are synced: once per directory, before the ack.
  for (const dir of run.renamedInto) await ctx.fs.syncDir(dir).catch(() => {});
  return results;
}

/** The reason for an operation's result (which names its path already): a disk error says what, and what to do. */
function describeFailure(error: unknown, path: string): string {
  if (error instanceof FsError) {
    return error.path === path || isTempName(baseName(error.path)) ? error.reason : error.message;
  }
  return (error as Error).message;
}

/** What is at the path now: its lstat, and the hash or target where the planner needs them. */
async function gatherFacts(
  fs: ShareFs,
  op: SequencedEntry,
  known: IndexEntry | undefined,
): Promise<LocalFacts> {
  let stat: FsStat | undefined;
  try {
    stat = await fs.stat(op.path);
  } catch (error) {
    if (errnoOf(error) === "ENOTDIR") return { stat: undefined, blockedAncestor: true };
    throw error;
  }
  const facts: LocalFacts = { stat, blockedAncestor: false };
  if (stat?.type === "file" && op.type === "file") {
    const sameStat =
      known?.type === "file" &&
      known.size === stat.size &&
      known.mtimeMs === stat.mtimeMs &&
      known.ino === stat.ino;
    if (sameStat) facts.hash = known.hash;
    else if (stat.size === op.size) facts.hash = (await hashFile(fs, op.path, stat.size)).hash;
  } else if (stat?.type === "symlink" && op.type === "symlink") {
    facts.target = await fs.readlink(op.path);
  }
  return facts;
}

async function applyOperation(
  ctx: ExecuteContext,
  run: Run,
  op: SequencedEntry,
  prefetched: Map<string, Uint8Array>,
): Promise<string> {
  let expected = "";
  if (op.type === "file") {
    const problem = blockLayoutProblem(op);
    if (problem) throw new FleetsyncError("invalid", `instruction for ${op.path}: ${problem}`);
    expected = contentHashSync(op.size, op.blockSize, op.blocks, op.blockLengths);
  }
  let facts = await gatherFacts(ctx.fs, op, ctx.index[op.path]);
  let plan = planOperation(op, facts, ctx.index[op.path], ctx, expected);
  if (plan.action === "skip" || plan.action === "defer") {
    ctx.log.info(`not applying ${op.path}: ${plan.reason}`, { seq: op.seq });
    return plan.action;
  }
  if (ctx.dryRun) return plan.action;
  if (facts.blockedAncestor && plan.action !== "unchanged") {
    await makeParentDirs(ctx, run.stamp, op.path);
    facts = await gatherFacts(ctx.fs, op, ctx.index[op.path]);
    plan = planOperation(op, facts, ctx.index[op.path], ctx, expected);
  }
  await carryOut(ctx, run, op, plan, { prefetched, expected, stat: facts.stat });
  if (op.type === "deleted") forgetAtOrBelow(ctx.index, op.path);
  return plan.action;
}

/** Makes every missing ancestor a real directory; anything else in the way (a file, a symlink) goes to trash. */
async function makeParentDirs(ctx: ExecuteContext, stamp: string, path: string): Promise<void> {
  const parts = parentOf(path).split("/");
  let at = "";
  for (const part of parts) {
    at = at ? `${at}/${part}` : part;
    const st = await ctx.fs.stat(at);
    if (st?.type === "dir") continue;
    if (st) {
      await moveToTrash(ctx.fs, at, stamp);
      forgetAtOrBelow(ctx.index, at);
    }
    // Files applied side by side may create the same parent: losing that race is fine if a directory won it.
    await ctx.fs.mkdir(at, 0o755).catch(async (error) => {
      if (errnoOf(error) !== "EEXIST" || (await ctx.fs.stat(at))?.type !== "dir") throw error;
    });
  }
}

async function carryOut(
  ctx: ExecuteContext,
  run: Run,
  op: SequencedEntry,
  plan: PlannedAction,
  more: { prefetched: Map<string, Uint8Array>; expected: string; stat: FsStat | undefined },
): Promise<void> {
  const { fs, index } = ctx;
  const record = async (entry: Omit<IndexEntry, "ino">) => {
    const after = await fs.stat(op.path);
    index[op.path] = { ...entry, ino: after?.ino ?? 0, seq: op.seq };
  };
  switch (plan.action) {
    case "unchanged":
      if (more.stat) await record(indexEntryFor(op, more.stat.mode, more.expected));
      return;
    case "skip":
    case "defer":
      return;
    case "metadata":
      if (plan.mode !== undefined) await fs.setMode(op.path, plan.mode);
      if (plan.mtimeMs !== undefined) await fs.setMtime(op.path, plan.mtimeMs);
      await record(indexEntryFor(op, plan.mode ?? more.stat!.mode, more.expected));
      return;
    case "create":
    case "update": {
      const { temp } = await writeTempFile({
        fs,
        dir: parentOf(op.path),
        op,
        mode: plan.mode,
        fetchBlocks: ctx.fetchBlocks,
        localBlocks: run.localBlocks,
        prefetched: more.prefetched,
        signal: ctx.signal,
      });
      try {
        await makeRoom(ctx, run.stamp, op.path, plan.inTheWay);
        await fs.rename(temp, op.path);
      } catch (error) {
        await fs.remove(temp).catch(() => {});
        throw error;
      }
      run.renamedInto.add(parentOf(op.path));
      await record(indexEntryFor(op, plan.mode, more.expected));
      return;
    }
    case "mkdir":
      await makeRoom(ctx, run.stamp, op.path, plan.inTheWay === "file" ? "other" : plan.inTheWay);
      await fs.mkdir(op.path, plan.mode);
      await record(indexEntryFor(op, plan.mode, ""));
      return;
    case "symlink": {
      // A fresh random name: symlink() never follows or replaces anything already there.
      const dir = parentOf(op.path);
      const temp = dir === "" ? newTempName() : `${dir}/${newTempName()}`;
      await fs.symlink(op.target ?? "", temp);
      try {
        await makeRoom(ctx, run.stamp, op.path, plan.inTheWay === "file" ? "other" : plan.inTheWay);
        await fs.rename(temp, op.path);
      } catch (error) {
        await fs.remove(temp).catch(() => {});
        throw error;
      }
      await record(indexEntryFor(op, 0, ""));
      return;
    }
    case "delete":
      await moveToTrash(fs, op.path, run.stamp);
      return;
  }
}

/** Keeps what is in the way in trash: a file is copied (then replaced atomically), anything else moved aside. */
async function makeRoom(ctx: ExecuteContext, stamp: string, path: string, way: "nothing" | "file" | "other") {
  if (way === "file") await copyToTrash(ctx.fs, path, stamp);
  else if (way === "other") {
    await moveToTrash(ctx.fs, path, stamp);
    forgetAtOrBelow(ctx.index, path);
  }
}

function indexEntryFor(op: SequencedEntry, mode: number, hash: string): Omit<IndexEntry, "ino"> {
  switch (op.type) {
    case "file":
      return {
        type: "file",
        size: op.size,
        mtimeMs: op.mtimeMs,
        mode,
        blockSize: op.blockSize,
        blocks: op.blocks,
        ...(op.blockLengths ? { blockLengths: op.blockLengths } : {}),
        hash,
      };
    case "dir":
      return { type: "dir", size: 0, mtimeMs: 0, mode, blockSize: op.blockSize, blocks: [], hash: "" };
    default:
      return {
        type: "symlink",
        size: 0,
        mtimeMs: 0,
        mode: 0,
        blockSize: op.blockSize,
        blocks: [],
        hash: "",
        target: op.target ?? "",
      };
  }
}
