// The receiving side of a session (replica, peer): checks at start (local drift), then applying verified instructions.

import { FleetsyncError } from "../../shared/errors/fleetsync-error.ts";
import type { Instruction } from "../../shared/instructions/instruction.ts";
import type { SequencedEntry } from "../../shared/protocol/entry.ts";
import type { OperationResult } from "../../shared/protocol/messages.ts";
import type { ResolvedShare } from "../config/agent-config.ts";
import { describeHookResult } from "../hooks/describe-hook-result.ts";
import { resolveOnApply } from "../hooks/on-apply-setting.ts";
import { runHook } from "../hooks/run-hook.ts";
import { backoffMs } from "../hub/backoff.ts";
import type { FetchBlocksOptions } from "../kinds/share-kind.ts";
import { indexSize } from "../state/index-record.ts";
import type { ShareState } from "../state/share-state.ts";
import { whileBusy } from "../tune-v8-for-idle.ts";
import { ApplyProgress, PROGRESS_MIN_OPS } from "./apply-progress.ts";
import { deferredOps, recordDeferred } from "./deferred-ops.ts";
import { expandInstructionOps } from "./expand-instruction-ops.ts";
import type { SessionCore } from "./session-core.ts";

/** Failed operations are retried from 2 s, doubling, up to every 2 minutes. */
const RETRY_BACKOFF = { baseMs: 2000, capMs: 120_000 };
/** A file waiting for a holder to upload a dropped block again asks from 2 s up to every 10 s (a cheap look-up). */
const REUPLOAD_RETRY_BACKOFF = { baseMs: 2000, capMs: 10_000 };

export type ReceivingSide = {
  share: ResolvedShare;
  /** Prepares the share and tells the hub where it stands; false while the share is not usable. */
  prepare(): Promise<boolean>;
  /** Applies a verified instruction; `complete` is false when it was refused or something in it failed. */
  apply(instruction: Instruction, instructionId: string): Promise<{ complete: boolean }>;
  /** Retries the operations that failed before, if their backoff is over. */
  retryFailed(): Promise<void>;
  /** The kind's housekeeping (a folder's trash past retention). */
  maintain(): Promise<void>;
  readonly ready: boolean;
  /** Milliseconds until the periodic rescan (rescanMinutes) is due (≤ 0: prepare() again to catch local drift). */
  rescanDueInMs(nowMs: number): number;
  /** Milliseconds until failed operations are due for a retry (Infinity when there are none). */
  retryDueInMs(nowMs: number): number;
};

type AppliedOps = { results: OperationResult[]; reachedSeq: number; failed: SequencedEntry[] };

export function createReceivingSide(session: SessionCore): ReceivingSide {
  const { client, share, kind, log, signal } = session;
  let state: ShareState | undefined;
  let isNew = false;
  let wasReady = false;
  let ready = false;
  let preparedAt = 0;
  let lastProblem: string | undefined;
  let retryAttempt = 0;
  let retryAt = 0;
  /** A long first sync or catch-up in progress (undefined otherwise). */
  let progress: ApplyProgress | undefined;
  const persist = () => session.persist();
  const tellHub = session.tellHub;
  const opened = async () => {
    if (!state) ({ state, isNew } = await session.open());
    return state;
  };
  /** Applies `ops` through the kind; a run cut short (abort) reaches no further than `fromSeq`. */
  const applyOps = async (
    st: ShareState,
    ops: SequencedEntry[],
    range: { fromSeq: number; toSeq: number },
  ): Promise<AppliedOps> => {
    const awaited = new Set<string>();
    const results = await whileBusy(() =>
      kind.apply({
        ops,
        index: st.index,
        fetchBlocks: (hashes, s, options) => fetchNoting(hashes, s, awaited, options),
        onDone: (_op, bytes) => progress?.done(bytes),
        deletes: share.deletes,
        localChange: session.policy.unreportedLocalChange,
        dryRun: share.dryRun,
        signal,
      }),
    );
    waitingForReupload = explainAwaitedBlocks(ops, results, awaited);
    const failedPaths = new Set(results.filter((r) => !r.ok).map((r) => r.path));
    // A kind may add results of its own (a Pi-hole's gravity run); the run is whole when every operation has one.
    const answered = new Set(results.map((r) => r.path));
    return {
      results,
      reachedSeq: ops.every((op) => answered.has(op.path)) ? range.toSeq : range.fromSeq,
      failed: ops.filter((op) => failedPaths.has(op.path)),
    };
  };
  /** Whether the last run's failures all wait for blocks a relay share's hub asked a holder to upload again. */
  let waitingForReupload = false;
  /** Fetches blocks, noting in `awaited` the ones the hub left out because it asked a holder to re-upload them. */
  async function* fetchNoting(
    hashes: string[],
    s: AbortSignal | undefined,
    awaited: Set<string>,
    options: FetchBlocksOptions = {},
  ) {
    let requested = false;
    const got = new Set<string>();
    const frames = client.fetchBlocks(hashes, s, {
      onReuploadRequested: () => (requested = true),
      transient: options.transient,
    });
    for await (const frame of frames) {
      got.add(frame.hash);
      yield frame;
    }
    if (requested) for (const hash of hashes) if (!got.has(hash)) awaited.add(hash);
  }
  /** Says why a file waits for a dropped block (log, status, hub) instead of "not on the hub"; true when all do. */
  const explainAwaitedBlocks = (ops: SequencedEntry[], results: OperationResult[], awaited: Set<string>) => {
    if (awaited.size === 0) return false;
    const byPath = new Map(ops.map((op) => [op.path, op]));
    let waiting = 0;
    let failing = 0;
    for (const result of results) {
      if (result.ok) continue;
      failing++;
      const hash = byPath.get(result.path)?.blocks.find((h) => awaited.has(h));
      if (hash === undefined) continue;
      result.error = `waiting for a member that holds block ${hash.slice(0, 12)} of ${result.path} to come online and re-upload it`;
      if (waiting === 0) log.warn(result.error, { path: result.path, block: hash });
      waiting++;
    }
    if (waiting > 1) log.warn("files waiting for dropped blocks to be uploaded again", { files: waiting });
    return waiting > 0 && waiting === failing;
  };
  /**
   * An operation of an earlier instruction that still fails, as a result for the ack of a later one that applied
   * cleanly: the hub sets a member's last error from each ack, so without it a clean ack would show the member
   * healthy (and a relay share drop blocks it still needs) until the next retry says otherwise.
   */
  const stillFailing = (st: ShareState): OperationResult | undefined => {
    const ops = Object.values(st.failed).sort((a, b) => a.seq - b.seq);
    const named = ops.find((op) => st.lastError?.startsWith(`${op.path}: `)) ?? ops[0];
    if (!named) return undefined;
    const error = st.lastError?.startsWith(`${named.path}: `)
      ? st.lastError.slice(named.path.length + 2)
      : "failed earlier; a retry is pending";
    return {
      seq: named.seq,
      path: named.path,
      action: "retry",
      ok: false,
      bytes: 0,
      error: error.slice(0, 2000),
    };
  };
  const failedCount = () => Object.keys(state?.failed ?? {}).length;
  const deferredCount = () => Object.keys(state?.deferred ?? {}).length;
  const scheduleRetry = () => {
    if (failedCount() === 0 && deferredCount() === 0) {
      retryAttempt = 0;
      return;
    }
    retryAttempt++;
    const backoff = waitingForReupload ? REUPLOAD_RETRY_BACKOFF : RETRY_BACKOFF;
    retryAt = Date.now() + backoffMs(retryAttempt, Math.random(), backoff);
  };
  function retryDueInMs(nowMs: number): number {
    return (failedCount() === 0 && deferredCount() === 0) || share.dryRun
      ? Number.POSITIVE_INFINITY
      : retryAt - nowMs;
  }

  const prepare = async (st: ShareState): Promise<boolean> => {
    const check = await kind.prepare({
      isFirstRun: isNew && indexSize(st.index) === 0,
      role: session.policy.role,
    });
    if (!check.ok) {
      st.lastError = check.reason;
      if (check.reason !== lastProblem) {
        log.error(check.reason);
        // A fresh share that could not be made usable has no state to keep yet; one that synced shows why it waits.
        if (wasReady || !isNew) await persist().catch(() => {});
        await tellHub(check.reason);
      }
      lastProblem = check.reason;
      ready = false;
      return false;
    }
    wasReady = true;
    if (lastProblem) {
      log.info("share is usable again; resuming");
      st.lastError = null;
      await tellHub(null);
    }
    lastProblem = undefined;
    // A peer's local changes are its sending side's to find and report (taking them into the index here would
    // hide them); a replica looks for drift itself, and starts over so every drifted path is restored.
    if (session.policy.unreportedLocalChange === "overwrite") {
      const scan = await kind.scan({ dirty: new Set([""]), index: st.index });
      for (const [path, entry] of scan.updates) {
        if (entry) st.index[path] = entry;
        else delete st.index[path];
      }
      if (scan.changed.size > 0 && st.cursor > 0) {
        // The local copies go to trash as they are overwritten.
        log.warn("local changes found on a replica; re-syncing the share from the hub", {
          paths: scan.changed.size,
        });
        st.cursor = 0;
      }
    }
    if (st.cursor === 0) {
      st.failed = {};
      st.deferred = {};
    }
    await persist();
    await kind.maintain?.();
    const answer = await client.setCursor(share.name, st.cursor, share.dryRun);
    log.info(`${session.policy.role} ready`, {
      cursor: answer.cursor,
      head: answer.head,
      dryRun: share.dryRun,
    });
    st.cursor = answer.cursor;
    preparedAt = Date.now();
    ready = true;
    return true;
  };

  const apply = async (st: ShareState, instruction: Instruction, instructionId: string) => {
    if (instruction.fromSeq !== st.cursor) {
      const what = instruction.fromSeq < st.cursor ? "replay" : "gap or rollback";
      log.warn(
        `refused instruction ${instructionId}: it starts at seq ${instruction.fromSeq} but this ${session.policy.role} is at ${st.cursor} (${what})`,
      );
      await client.setCursor(share.name, st.cursor, share.dryRun);
      return { complete: false };
    }
    const expanded = await expandInstructionOps(instruction.ops, st.index);
    if (!expanded.ok) {
      // A delta against a version this device lacks (or one that does not add up): drop the instruction, ask for
      // whole block lists; the hub re-plans from the same cursor.
      log[expanded.wrongBase ? "info" : "error"](
        `set aside instruction ${instructionId}: ${expanded.reason}; asking the hub for whole block lists`,
      );
      client.askWholeBlockLists();
      await client.setCursor(share.name, st.cursor, share.dryRun);
      return { complete: false };
    }
    instruction = { ...instruction, ops: expanded.ops };
    const started = Date.now();
    const check = await kind.prepare({ isFirstRun: false, role: session.policy.role });
    if (!check.ok) {
      ready = false;
      throw new FleetsyncError("unavailable", check.reason, { retryable: true });
    }
    await trackProgress(instruction);
    const outcome = await applyOps(st, instruction.ops, instruction);
    if (progress?.finishedAt(outcome.reachedSeq)) {
      await progress.finish();
      progress = undefined;
    }
    const failed = outcome.results.filter((r) => !r.ok);
    if (!share.dryRun) {
      st.cursor = outcome.reachedSeq;
      for (const result of outcome.results) if (result.ok) delete st.failed[result.path];
      for (const op of outcome.failed) st.failed[op.path] = op;
      recordDeferred(st.deferred, instruction.ops, outcome.results);
      const changed = outcome.results.filter(
        (r) => r.ok && r.action !== "unchanged" && r.action !== "skip" && r.action !== "defer",
      ).length;
      if (changed > 0) st.lastChangeAt = new Date().toISOString();
      if (failed[0]) st.lastError = `${failed[0].path}: ${failed[0].error}`;
      else if (failedCount() === 0) st.lastError = null;
      if (failed.length > 0) scheduleRetry();
      // A deferred operation waits for this peer's own report; a retry after that applies it if nothing settled it.
      else if (deferredCount() > 0 && retryAt <= Date.now()) retryAt = Date.now() + RETRY_BACKOFF.baseMs;
      await persist();
    }
    const hook = share.dryRun ? undefined : await runOnApply(outcome.results, outcome.reachedSeq);
    const pending = failed.length === 0 && !share.dryRun ? stillFailing(st) : undefined;
    const ack = await client.ack(instructionId, {
      reachedSeq: outcome.reachedSeq,
      dryRun: share.dryRun,
      results: [...outcome.results, ...(hook ? [hook] : []), ...(pending ? [pending] : [])],
    });
    log.info(share.dryRun ? "dry run finished" : "instruction applied", {
      from: instruction.fromSeq,
      to: outcome.reachedSeq,
      ops: outcome.results.length,
      failed: failed.length,
      ms: Date.now() - started,
      ...(failed.length > 0 ? { retryInMs: Math.max(0, retryAt - Date.now()) } : {}),
      ...(ack.note ? { note: ack.note } : {}),
    });
    return { complete: failed.length === 0 };
  };

  /** Starts progress reports for a large instruction (totals from the hub's lag), or adds to running ones. */
  const trackProgress = async (instruction: Instruction) => {
    const files = instruction.ops.length;
    const bytes = instruction.ops.reduce((sum, op) => sum + (op.type === "file" ? op.size : 0), 0);
    if (progress) {
      progress.expect(files, bytes, instruction.toSeq);
      return;
    }
    if (files < PROGRESS_MIN_OPS) return;
    const lag = await client
      .config()
      .then((answer) => answer.shares.find((s) => s.name === share.name))
      .catch(() => undefined);
    progress = new ApplyProgress(
      { stateDir: session.stateDir, share: share.name, log },
      { files: Math.max(files, lag?.lagFiles ?? 0), bytes: Math.max(bytes, lag?.lagBytes ?? 0) },
      Math.max(instruction.toSeq, lag?.head ?? 0),
    );
    progress.report();
  };

  /** The share's onApply hook, once, after an instruction that changed something; its result goes to the op log. */
  const runOnApply = async (
    results: OperationResult[],
    reachedSeq: number,
  ): Promise<OperationResult | undefined> => {
    const changedPaths = results
      .filter(
        (r) =>
          r.ok &&
          r.action !== "unchanged" &&
          r.action !== "skip" &&
          r.action !== "defer" &&
          r.action !== "gravity",
      )
      .map((r) => r.path);
    if (!share.onApply || changedPaths.length === 0) return undefined;
    const hook = resolveOnApply(share.onApply);
    const result = await runHook({ hook, share: share.name, root: share.path || "/", changedPaths, signal });
    const text = describeHookResult(hook.command, result);
    log[result.ok ? "info" : "warn"](text, { changed: changedPaths.length, exitCode: result.exitCode });
    // Never retried: a failing hook is reported, and runs again only after the next applied change.
    return {
      seq: Math.max(1, reachedSeq),
      path: "(onApply hook)",
      action: "hook",
      ok: result.ok,
      bytes: 0,
      ...(result.ok ? {} : { error: text.slice(0, 2000) }),
    };
  };

  const retryFailed = async (st: ShareState) => {
    if (!ready || retryDueInMs(Date.now()) > 0) return;
    const hadFailed = failedCount();
    const deferred = deferredOps(st.deferred);
    const ops = [...Object.values(st.failed), ...deferred].sort((a, b) => a.seq - b.seq);
    const outcome = await applyOps(st, ops, { fromSeq: st.cursor, toSeq: st.cursor });
    for (const result of outcome.results) {
      if (result.ok) delete st.failed[result.path];
      else st.lastError = `${result.path}: ${result.error}`;
    }
    recordDeferred(st.deferred, deferred, outcome.results);
    const applied = outcome.results.filter((r) => r.ok && r.action !== "defer" && r.action !== "unchanged");
    if (applied.length > 0) st.lastChangeAt = new Date().toISOString();
    const left = failedCount();
    if (left === 0) {
      st.lastError = null;
      if (hadFailed > 0) log.info("retried operations that had failed; all applied now", { ops: hadFailed });
    } else {
      log.warn("operations still failing; will retry", { failing: left, error: st.lastError });
    }
    const stillDeferred = deferredCount();
    if (deferred.length > stillDeferred) {
      log.info("applied operations deferred for local changes that were never reported", {
        ops: deferred.length - stillDeferred,
      });
    }
    scheduleRetry();
    await persist();
    await tellHub(st.lastError);
  };

  return {
    share,
    get ready() {
      return ready;
    },
    rescanDueInMs(nowMs) {
      return share.rescanMinutes > 0
        ? preparedAt + share.rescanMinutes * 60_000 - nowMs
        : Number.POSITIVE_INFINITY;
    },
    retryDueInMs,
    async prepare() {
      const st = await opened();
      return session.exclusive(() => prepare(st));
    },
    async apply(instruction, instructionId) {
      const st = await opened();
      return session.exclusive(() => apply(st, instruction, instructionId));
    },
    async retryFailed() {
      if (!ready) return;
      const st = await opened();
      await session.exclusive(() => retryFailed(st));
    },
    async maintain() {
      if (ready) await session.exclusive(async () => kind.maintain?.());
    },
  };
}
