// Applies a verified instruction to a replica share: every write atomic, everything replaced or deleted kept in trash.
import { lstat, mkdir, open, readlink, rename, rm, symlink } from "node:fs/promises";
import { dirname, join } from "node:path";
import { contentHash } from "../../../../shared/blocks/content-hash.ts";
import { FleetsyncError } from "../../../../shared/errors/fleetsync-error.ts";
import type { Instruction } from "../../../../shared/instructions/instruction.ts";
import { isSameOrBelow } from "../../../../shared/paths/normalize-share-path.ts";
import type { SequencedEntry } from "../../../../shared/protocol/entry.ts";
import type { OperationResult } from "../../../../shared/protocol/messages.ts";
import type { AgentLogger } from "../../../log/agent-logger.ts";
import type { IndexEntry } from "../../../state/share-state.ts";
import type { FetchBlocks, ShareIndex } from "../../share-kind.ts";
import {
  type ConfinedPath,
  type CreateParent,
  confinePath,
  NotADirectoryError,
} from "../fs/confined-path.ts";
import { openNoFollow } from "../fs/open-no-follow.ts";
import { mtimeSeconds } from "../fs/set-mtime.ts";
import { newTempName } from "../fs/temp-name.ts";
import { hashFile } from "../scan/hash-file.ts";
import { BlockPrefetcher } from "./block-prefetcher.ts";
import { copyToTrash, moveToTrash, trashStamp } from "./trash.ts";
import { type LocalBlocks, writeTempFile } from "./write-file-atomically.ts";

/** Permission bits a replica writes by default: never setuid, setgid or sticky (a share may opt in to 0o7777). */
export const PERMISSION_BITS = 0o777;

export type ApplyContext = {
  root: string;
  deletes: "propagate" | "keep";
  /** Which mode bits of an operation are applied (PERMISSION_BITS unless the share opts in to special bits). */
  modeMask: number;
  dryRun: boolean;
  /** The session's index: what is applied is recorded here, what is removed forgotten. */
  index: ShareIndex;
  fetchBlocks: FetchBlocks;
  log: AgentLogger;
  signal?: AbortSignal;
  now?: () => Date;
};

/** What one instruction's operations share: its trash stamp, local block sources, and directories to fsync. */
type ApplyRun = { stamp: string; localBlocks: LocalBlocks; renamedInto: Set<string> };

/** How many files a replica writes at once (each ends in an fsync, so overlapping them pays). */
const FILE_CONCURRENCY = 8;

export type ApplyOutcome = {
  reachedSeq: number;
  results: OperationResult[];
  /** The operations that failed, to be retried later. */
  failed: SequencedEntry[];
};

/** Directories and files in sequence order, then deletions deepest first (so renames can reuse local blocks). */
export function orderOperations(ops: SequencedEntry[]): SequencedEntry[] {
  const writes = ops.filter((op) => op.type !== "deleted").sort((a, b) => a.seq - b.seq);
  const deletes = ops
    .filter((op) => op.type === "deleted")
    .sort((a, b) => (a.path < b.path ? 1 : a.path > b.path ? -1 : 0));
  return [...writes, ...deletes];
}

export async function applyInstruction(
  ctx: ApplyContext,
  instruction: Pick<Instruction, "fromSeq" | "toSeq" | "ops">,
): Promise<ApplyOutcome> {
  const localBlocks = buildLocalBlockIndex(ctx.index);
  const run: ApplyRun = {
    stamp: trashStamp((ctx.now ?? (() => new Date()))()),
    localBlocks,
    renamedInto: new Set(),
  };
  const results: OperationResult[] = [];
  const ordered = orderOperations(instruction.ops);
  const prefetcher = new BlockPrefetcher(
    ctx.root,
    ordered,
    ctx.index,
    localBlocks,
    ctx.fetchBlocks,
    ctx.signal,
  );
  const applyOne = async (op: SequencedEntry, prefetched: Map<string, Uint8Array>) => {
    try {
      const action = await applyOperation(ctx, run, op, prefetched);
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
      }
    } catch (error) {
      const reason = describeFailure(error);
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
  // Renames are durable once their directories are synced: once per directory, before the ack.
  for (const dir of run.renamedInto) await fsyncDir(dir);
  // A failed operation does not hold the cursor back (that stalled every later change behind one file that
  // could not be written): the caller keeps it aside and retries it. Only an interrupted run starts over.
  const attempted = results.length === instruction.ops.length;
  const failedPaths = new Set(results.filter((r) => !r.ok).map((r) => r.path));
  return {
    reachedSeq: attempted ? instruction.toSeq : instruction.fromSeq,
    results,
    failed: instruction.ops.filter((op) => failedPaths.has(op.path)),
  };
}

function describeFailure(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "EACCES" || code === "EPERM") return `permission denied (${(error as Error).message})`;
  if (code === "ENOSPC") return "disk full (ENOSPC); free space and the agent will retry";
  if (code === "EROFS") return "read-only file system";
  return (error as Error).message;
}

function buildLocalBlockIndex(index: Record<string, IndexEntry>): LocalBlocks {
  let map: Map<string, { path: string; offset: number; length: number }> | undefined;
  return (hash) => {
    if (!map) {
      map = new Map();
      for (const [path, entry] of Object.entries(index)) {
        if (entry.type !== "file") continue;
        entry.blocks.forEach((h, i) => {
          const offset = i * entry.blockSize;
          if (!map!.has(h))
            map!.set(h, { path, offset, length: Math.min(entry.blockSize, entry.size - offset) });
        });
      }
    }
    return map.get(hash);
  };
}

async function applyOperation(
  ctx: ApplyContext,
  run: ApplyRun,
  op: SequencedEntry,
  prefetched: Map<string, Uint8Array>,
): Promise<string> {
  const { stamp } = run;
  // Every path is reached through handles on its real parent directories: never through a symlinked or
  // swapped-in ancestor, which could reach outside the share root.
  let at: ConfinedPath;
  try {
    at = await confinePath(ctx.root, op.path);
  } catch (error) {
    if (!(error instanceof NotADirectoryError)) throw error;
    if (op.type === "deleted") return "unchanged";
    if (ctx.dryRun) return op.type === "dir" ? "mkdir" : op.type === "symlink" ? "symlink" : "create";
    at = await confinePath(ctx.root, op.path, makeParentDir(ctx.root, stamp));
  }
  try {
    switch (op.type) {
      case "file":
        return await applyFile(ctx, run, op, prefetched, at);
      case "dir":
        return await applyDir(ctx, op, stamp, at);
      case "symlink":
        return await applySymlink(ctx, op, stamp, at);
      case "deleted":
        return await applyDelete(ctx, op, stamp, at);
    }
  } finally {
    await at.close();
  }
}

/** Makes a missing ancestor a real directory; anything else in the way (a file, a symlink) goes to trash. */
function makeParentDir(root: string, stamp: string): CreateParent {
  return async (rel, at) => {
    const st = await lstat(at).catch(() => undefined);
    if (st && !st.isDirectory()) await moveToTrash(root, rel, stamp);
    // Files applied side by side may create the same parent: losing that race is fine if a directory won it.
    await mkdir(at).catch(async (error: NodeJS.ErrnoException) => {
      if (error.code !== "EEXIST" || !(await lstat(at)).isDirectory()) throw error;
    });
  };
}

async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, "r").catch(() => undefined);
  await handle?.sync().catch(() => {});
  await handle?.close();
}

function forgetBelow(index: ShareIndex, path: string): void {
  for (const key of Object.keys(index)) if (isSameOrBelow(key, path)) delete index[key];
}

async function applyFile(
  ctx: ApplyContext,
  run: ApplyRun,
  op: SequencedEntry,
  prefetched: Map<string, Uint8Array>,
  at: ConfinedPath,
): Promise<string> {
  const { stamp, localBlocks } = run;
  if (op.blocks.length !== Math.ceil(op.size / op.blockSize)) {
    throw new FleetsyncError(
      "invalid",
      `instruction for ${op.path}: ${op.blocks.length} blocks cannot hold ${op.size} bytes`,
    );
  }
  const expected = await contentHash(op.size, op.blockSize, op.blocks);
  const mode = op.mode & ctx.modeMask;
  const abs = at.abs;
  const st = await lstat(abs).catch(() => undefined);
  if (st?.isFile()) {
    const known = ctx.index[op.path];
    const sameStat =
      known?.type === "file" &&
      known.size === st.size &&
      known.mtimeMs === Math.floor(st.mtimeMs) &&
      known.ino === st.ino;
    const localHash = sameStat ? known.hash : st.size === op.size ? (await hashFile(abs, st.size)).hash : "";
    if (localHash === expected) {
      const modeOk = (st.mode & 0o7777) === mode;
      const mtimeOk = Math.floor(st.mtimeMs) === op.mtimeMs;
      if (modeOk && mtimeOk) {
        ctx.index[op.path] = fileIndexEntry(op, mode, expected, st.ino);
        return "unchanged";
      }
      if (ctx.dryRun) return "metadata";
      // On the handle, opened without following a link: a symlink swapped in meanwhile fails (ELOOP).
      const handle = await openNoFollow(abs);
      try {
        if (!modeOk) await handle.chmod(mode);
        if (!mtimeOk) await handle.utimes(mtimeSeconds(op.mtimeMs), mtimeSeconds(op.mtimeMs));
      } finally {
        await handle.close();
      }
      ctx.index[op.path] = fileIndexEntry(op, mode, expected, st.ino);
      return "metadata";
    }
  }
  const action = st ? "update" : "create";
  if (ctx.dryRun) return action;

  const { temp } = await writeTempFile({
    root: ctx.root,
    dir: at.dir,
    op,
    mode,
    fetchBlocks: ctx.fetchBlocks,
    localBlocks,
    prefetched,
    signal: ctx.signal,
  });
  try {
    const current = await lstat(abs).catch(() => undefined);
    if (current?.isFile()) await copyToTrash(ctx.root, op.path, stamp);
    else if (current) {
      await moveToTrash(ctx.root, op.path, stamp);
      forgetBelow(ctx.index, op.path);
    }
    await rename(temp, abs);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  run.renamedInto.add(dirname(join(ctx.root, op.path)));
  const after = await lstat(abs);
  ctx.index[op.path] = fileIndexEntry(op, mode, expected, after.ino);
  return action;
}

function fileIndexEntry(op: SequencedEntry, mode: number, hash: string, ino: number): IndexEntry {
  return {
    type: "file",
    size: op.size,
    mtimeMs: op.mtimeMs,
    ino,
    mode,
    blockSize: op.blockSize,
    blocks: op.blocks,
    hash,
  };
}

async function applyDir(
  ctx: ApplyContext,
  op: SequencedEntry,
  stamp: string,
  at: ConfinedPath,
): Promise<string> {
  const abs = at.abs;
  const mode = op.mode & ctx.modeMask;
  const st = await lstat(abs).catch(() => undefined);
  const entry = (ino: number): IndexEntry => ({
    type: "dir",
    size: 0,
    mtimeMs: 0,
    ino,
    mode,
    blockSize: op.blockSize,
    blocks: [],
    hash: "",
  });
  if (st?.isDirectory()) {
    if ((st.mode & 0o7777) === mode) {
      ctx.index[op.path] = entry(st.ino);
      return "unchanged";
    }
    if (ctx.dryRun) return "metadata";
    await chmodDirNoFollow(abs, mode);
    ctx.index[op.path] = entry(st.ino);
    return "metadata";
  }
  if (ctx.dryRun) return "mkdir";
  if (st) {
    await moveToTrash(ctx.root, op.path, stamp);
    forgetBelow(ctx.index, op.path);
  }
  await mkdir(abs, { mode: 0o700 });
  await chmodDirNoFollow(abs, mode);
  ctx.index[op.path] = entry((await lstat(abs)).ino);
  return "mkdir";
}

async function chmodDirNoFollow(abs: string, mode: number): Promise<void> {
  const handle = await openNoFollow(abs, { directory: true });
  try {
    await handle.chmod(mode);
  } finally {
    await handle.close();
  }
}

async function applySymlink(
  ctx: ApplyContext,
  op: SequencedEntry,
  stamp: string,
  at: ConfinedPath,
): Promise<string> {
  const abs = at.abs;
  const target = op.target ?? "";
  const st = await lstat(abs).catch(() => undefined);
  const entry = (ino: number): IndexEntry => ({
    type: "symlink",
    size: 0,
    mtimeMs: 0,
    ino,
    mode: 0,
    blockSize: op.blockSize,
    blocks: [],
    hash: "",
    target,
  });
  if (st?.isSymbolicLink() && (await readlink(abs)) === target) {
    ctx.index[op.path] = entry(st.ino);
    return "unchanged";
  }
  if (ctx.dryRun) return "symlink";
  // A fresh random name: symlink() never follows or replaces anything already there.
  const temp = `${at.dir}/${newTempName()}`;
  await symlink(target, temp);
  if (st) {
    await moveToTrash(ctx.root, op.path, stamp);
    forgetBelow(ctx.index, op.path);
  }
  await rename(temp, abs);
  ctx.index[op.path] = entry((await lstat(abs)).ino);
  return "symlink";
}

async function applyDelete(
  ctx: ApplyContext,
  op: SequencedEntry,
  stamp: string,
  at: ConfinedPath,
): Promise<string> {
  if (ctx.deletes === "keep") return "skip";
  const abs = at.abs;
  const st = await lstat(abs).catch(() => undefined);
  if (!st) {
    forgetBelow(ctx.index, op.path);
    return "unchanged";
  }
  if (ctx.dryRun) return "delete";
  await moveToTrash(ctx.root, op.path, stamp);
  forgetBelow(ctx.index, op.path);
  return "delete";
}
