// One replica share: startup checks (marker, temp files, local drift), then applying verified instructions.
import { FleetsyncError } from "../../shared/errors/fleetsync-error.ts";
import type { Instruction } from "../../shared/instructions/instruction.ts";
import { applyInstruction } from "../apply/apply-instruction.ts";
import { removeTempFiles } from "../apply/remove-temp-files.ts";
import { cleanTrash } from "../apply/trash.ts";
import type { ResolvedShare } from "../config/agent-config.ts";
import type { HubClient } from "../hub/hub-client.ts";
import type { AgentLogger } from "../log/agent-logger.ts";
import { compileIgnoreRules } from "../scan/ignore-rules.ts";
import { scanShare } from "../scan/scan-share.ts";
import { checkShareRoot } from "../scan/share-root.ts";
import { emptyShareState, loadShareState, type ShareState, saveShareState } from "../state/share-state.ts";

export type ReplicaShare = {
  share: ResolvedShare;
  /** Prepares the share and tells the hub where it stands; false while its root is not usable. */
  prepare(): Promise<boolean>;
  apply(instruction: Instruction, instructionId: string): Promise<{ complete: boolean }>;
  cleanTrash(): Promise<void>;
  readonly ready: boolean;
  /** Milliseconds until the periodic rescan (rescanMinutes) is due (≤ 0: prepare() again to catch local drift). */
  rescanDueInMs(nowMs: number): number;
};

export async function openReplicaShare(
  share: ResolvedShare,
  deps: { client: HubClient; stateDir: string; log: AgentLogger; signal: AbortSignal },
): Promise<ReplicaShare> {
  const { client, stateDir, log, signal } = deps;
  const loaded = await loadShareState(stateDir, share.name);
  const state: ShareState = loaded ?? emptyShareState();
  const persist = () => saveShareState(stateDir, share.name, state);
  let ready = false;
  let preparedAt = 0;
  let lastProblem: string | undefined;

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
    async prepare() {
      const root = await checkShareRoot(
        share.name,
        share.path,
        loaded === undefined && Object.keys(state.index).length === 0,
      );
      if (!root.ok) {
        if (root.reason !== lastProblem) log.error(root.reason);
        lastProblem = root.reason;
        state.lastError = root.reason;
        ready = false;
        return false;
      }
      lastProblem = undefined;
      const removed = await removeTempFiles(share.path);
      if (removed.length > 0)
        log.info("removed temp files left by an interrupted apply", { count: removed.length });
      const scan = await scanShare(share.path, state.index, [""], compileIgnoreRules(share.ignore), log);
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
      await persist();
      await cleanTrash(share.path, share.retentionDays, Date.now());
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
        return { complete: true };
      }
      const started = Date.now();
      const root = await checkShareRoot(share.name, share.path, false);
      if (!root.ok) {
        ready = false;
        throw new FleetsyncError("unavailable", root.reason, { retryable: true });
      }
      const outcome = await applyInstruction(
        { root: share.path, deletes: share.deletes, dryRun: share.dryRun, state, client, log, signal },
        instruction,
      );
      const failed = outcome.results.filter((r) => !r.ok);
      if (!share.dryRun) {
        state.cursor = outcome.reachedSeq;
        const changed = outcome.results.filter(
          (r) => r.ok && r.action !== "unchanged" && r.action !== "skip",
        ).length;
        if (changed > 0) state.lastChangeAt = new Date().toISOString();
        state.lastError = failed[0] ? `${failed[0].path}: ${failed[0].error}` : null;
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
        ...(ack.note ? { note: ack.note } : {}),
      });
      return { complete: failed.length === 0 };
    },
    async cleanTrash() {
      if (ready) await cleanTrash(share.path, share.retentionDays, Date.now());
    },
  };
}
