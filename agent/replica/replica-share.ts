// One replica share: startup checks (marker, temp files, local drift), then applying verified instructions.
import { FleetsyncError } from "../../shared/errors/fleetsync-error.ts";
import type { Instruction } from "../../shared/instructions/instruction.ts";
import { type ApplyContext, applyInstruction, PERMISSION_BITS } from "../apply/apply-instruction.ts";
import { removeTempFiles } from "../apply/remove-temp-files.ts";
import { cleanTrash } from "../apply/trash.ts";
import type { ResolvedShare } from "../config/agent-config.ts";
import { backoffMs } from "../hub/backoff.ts";
import type { HubClient } from "../hub/hub-client.ts";
import type { AgentLogger } from "../log/agent-logger.ts";
import { compileIgnoreRules } from "../scan/ignore-rules.ts";
import { scanShare } from "../scan/scan-share.ts";
import { checkShareRoot } from "../scan/share-root.ts";
import { openShareState, saveShareState } from "../state/share-state.ts";

/** Failed operations are retried from 2 s, doubling, up to every 2 minutes. */
const RETRY_BACKOFF = { baseMs: 2000, capMs: 120_000 };

export type ReplicaShare = {
  share: ResolvedShare;
  /** Prepares the share and tells the hub where it stands; false while its root is not usable. */
  prepare(): Promise<boolean>;
  /** Applies a verified instruction; `complete` is false when it was refused or something in it failed. */
  apply(instruction: Instruction, instructionId: string): Promise<{ complete: boolean }>;
  /** Retries the operations that failed before, if their backoff is over. */
  retryFailed(): Promise<void>;
  cleanTrash(): Promise<void>;
  readonly ready: boolean;
  /** Milliseconds until the periodic rescan (rescanMinutes) is due (≤ 0: prepare() again to catch local drift). */
  rescanDueInMs(nowMs: number): number;
  /** Milliseconds until failed operations are due for a retry (Infinity when there are none). */
  retryDueInMs(nowMs: number): number;
};

export async function openReplicaShare(
  share: ResolvedShare,
  deps: { client: HubClient; stateDir: string; log: AgentLogger; signal: AbortSignal },
): Promise<ReplicaShare> {
  const { client, stateDir, log, signal } = deps;
  const opened = await openShareState(stateDir, share.name, {
    now: () => new Date(),
    onDamaged: (error, movedTo) =>
      log.error(
        `${error.message}; moved it to ${movedTo} and rebuilding the share's state from disk and the hub`,
      ),
  });
  const { state } = opened;
  const persist = () => saveShareState(stateDir, share.name, state);
  let root: string | undefined;
  let ready = false;
  let preparedAt = 0;
  let lastProblem: string | undefined;
  let retryAttempt = 0;
  let retryAt = 0;

  const applyContext = (rootPath: string): ApplyContext => ({
    root: rootPath,
    deletes: share.deletes,
    modeMask: share.specialModeBits ? 0o7777 : PERMISSION_BITS,
    dryRun: share.dryRun,
    state,
    client,
    log,
    signal,
  });
  const scheduleRetry = () => {
    if (Object.keys(state.failed).length === 0) {
      retryAttempt = 0;
      return;
    }
    retryAttempt++;
    retryAt = Date.now() + backoffMs(retryAttempt, Math.random(), RETRY_BACKOFF);
  };
  function retryDueInMs(nowMs: number): number {
    return Object.keys(state.failed).length === 0 || share.dryRun
      ? Number.POSITIVE_INFINITY
      : retryAt - nowMs;
  }
  const tellHub = (lastError: string | null) =>
    client
      .reportStatus(share.name, lastError)
      .catch((error: Error) =>
        log.debug("could not tell the hub this share's status", { error: error.message }),
      );

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
      const check = await checkShareRoot({
        share: share.name,
        path: share.path,
        resolved: root,
        isFirstRun: opened.isNew && Object.keys(state.index).length === 0,
        role: "replica",
      });
      if (!check.ok) {
        state.lastError = check.reason;
        if (check.reason !== lastProblem) {
          log.error(check.reason);
          // A fresh share whose root cannot be made has no state to keep yet; one that synced shows why it waits.
          if (root !== undefined || !opened.isNew) await persist().catch(() => {});
          await tellHub(check.reason);
        }
        lastProblem = check.reason;
        ready = false;
        return false;
      }
      root = check.root;
      if (lastProblem) {
        log.info("share root is back; resuming", { root });
        state.lastError = null;
        await tellHub(null);
      }
      lastProblem = undefined;
      const removed = await removeTempFiles(root);
      if (removed.length > 0)
        log.info("removed temp files left by an interrupted apply", { count: removed.length });
      const scan = await scanShare(root, state.index, [""], compileIgnoreRules(share.ignore), log);
      for (const [path, entry] of scan.updates) {
        if (entry) state.index[path] = entry;
        else delete state.index[path];
      }
      if (scan.changed.size > 0 && state.cursor > 0) {
        // Someone edited the replica while we were away: start over, so every drifted path is restored.
        log.warn("local changes found on a replica; re-syncing the share from the hub", {
          paths: scan.changed.size,
        });
        state.cursor = 0;
      }
      if (state.cursor === 0) state.failed = {};
      await persist();
      await cleanTrash(root, share.retentionDays, Date.now());
      const answer = await client.setCursor(share.name, state.cursor, share.dryRun);
      log.info("replica ready", { cursor: answer.cursor, head: answer.head, dryRun: share.dryRun });
      state.cursor = answer.cursor;
      preparedAt = Date.now();
      ready = true;
      return true;
    },
    async apply(instruction, instructionId) {
      if (instruction.fromSeq !== state.cursor) {
        const kind = instruction.fromSeq < state.cursor ? "replay" : "gap or rollback";
        log.warn(
          `refused instruction ${instructionId}: it starts at seq ${instruction.fromSeq} but this replica is at ${state.cursor} (${kind})`,
        );
        await client.setCursor(share.name, state.cursor, share.dryRun);
        return { complete: false };
      }
      const started = Date.now();
      const check = await checkShareRoot({
        share: share.name,
        path: share.path,
        resolved: root,
        isFirstRun: false,
        role: "replica",
      });
      if (!check.ok) {
        ready = false;
        throw new FleetsyncError("unavailable", check.reason, { retryable: true });
      }
      const outcome = await applyInstruction(applyContext(check.root), instruction);
      const failed = outcome.results.filter((r) => !r.ok);
      if (!share.dryRun) {
        state.cursor = outcome.reachedSeq;
        for (const result of outcome.results) if (result.ok) delete state.failed[result.path];
        for (const op of outcome.failed) state.failed[op.path] = op;
        const changed = outcome.results.filter(
          (r) => r.ok && r.action !== "unchanged" && r.action !== "skip",
        ).length;
        if (changed > 0) state.lastChangeAt = new Date().toISOString();
        if (failed[0]) state.lastError = `${failed[0].path}: ${failed[0].error}`;
        else if (Object.keys(state.failed).length === 0) state.lastError = null;
        if (failed.length > 0) scheduleRetry();
        await persist();
      }
      const ack = await client.ack(instructionId, {
        reachedSeq: outcome.reachedSeq,
        dryRun: share.dryRun,
        results: outcome.results,
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
    },
    async retryFailed() {
      if (!ready || !root || retryDueInMs(Date.now()) > 0) return;
      const ops = Object.values(state.failed).sort((a, b) => a.seq - b.seq);
      const outcome = await applyInstruction(applyContext(root), {
        fromSeq: state.cursor,
        toSeq: state.cursor,
        ops,
      });
      for (const result of outcome.results) {
        if (result.ok) delete state.failed[result.path];
        else state.lastError = `${result.path}: ${result.error}`;
      }
      const left = Object.keys(state.failed).length;
      if (left === 0) {
        state.lastError = null;
        state.lastChangeAt = new Date().toISOString();
        log.info("retried operations that had failed; all applied now", { ops: ops.length });
      } else {
        log.warn("operations still failing; will retry", { failing: left, error: state.lastError });
      }
      scheduleRetry();
      await persist();
      await tellHub(state.lastError);
    },
    async cleanTrash() {
      if (ready && root) await cleanTrash(root, share.retentionDays, Date.now());
    },
  };
}
