// The sending side of a session (source, peer): full scan at start, then watch → debounce → scan dirty paths → report.

import { FleetsyncError } from "../../shared/errors/fleetsync-error.ts";
import { UploadAhead } from "../blocks/upload-ahead.ts";
import { backoffMs, sleep } from "../hub/backoff.ts";
import type { KindScanResult, KindWatcher } from "../kinds/share-kind.ts";
import { indexSize, localBlockFinder } from "../state/index-record.ts";
import { whileBusy } from "../tune-v8-for-idle.ts";
import { ApplyProgress, clearProgress, PROGRESS_MIN_OPS } from "./apply-progress.ts";
import { ChangeBatcher, systemClock } from "./change-batcher.ts";
import { reportChanges } from "./report-changes.ts";
import { runReuploads } from "./reupload-blocks.ts";
import type { SessionCore } from "./session-core.ts";

const ROOT_RECHECK_MS = 5000;
/** How often a report the hub held as a mass delete is offered again (it passes once someone confirms it). */
const HELD_RETRY_MS = 10_000;

export async function runSendingSide(session: SessionCore): Promise<void> {
  const { client, share, kind, log, signal } = session;
  const opened = await session.open();
  const { state } = opened;
  const persist = () => session.persist();
  const pending = new Set<string>([""]);
  let wake: (() => void) | undefined;
  const poke = () => {
    wake?.();
    wake = undefined;
  };
  const batcher = new ChangeBatcher({
    debounceMs: share.debounceMs,
    maxDelayMs: share.maxDebounceMs,
    clock: systemClock,
    flush: (paths) => {
      for (const path of paths) pending.add(path);
      poke();
    },
  });
  let watcher: KindWatcher | undefined;
  const rescan =
    share.rescanMinutes > 0
      ? setInterval(() => {
          pending.add("");
          poke();
        }, share.rescanMinutes * 60_000)
      : undefined;
  signal.addEventListener("abort", poke, { once: true });
  let attempt = 0;
  let lastRootProblem: string | undefined;
  let lastHeld: string | undefined;
  /** Whether the kind was usable once since start (a share that never was has no state worth saving yet). */
  let wasReady = false;
  const tellHub = session.tellHub;
  /** A first upload of many entries: its progress, from the start of the first full scan until it is all reported. */
  let progress: ApplyProgress | undefined;
  // Figures an earlier run left behind belong to an upload that run did not finish; this run starts its own.
  await clearProgress(session.stateDir, share.name, "sending").catch(() => {});
  // A relay share's hub asks its holders for blocks it dropped; this member answers alongside its reports.
  const stopReuploads = new AbortController();
  const reuploadSignal = AbortSignal.any([signal, stopReuploads.signal]);
  const reuploading = runReuploads({ ...session, signal: reuploadSignal }).catch((error: Error) =>
    log.warn("re-uploading dropped blocks stopped", { error: error.message }),
  );

  /** Whether the hub holds committed entries of this share (a failure to ask counts as no: the report fails too). */
  const committedEntriesOnHub = () =>
    client
      .config()
      .then((answer) => (answer.shares.find((s) => s.name === share.name)?.head ?? 0) > 0)
      .catch(() => false);

  try {
    while (!signal.aborted) {
      if (pending.size === 0) {
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        continue;
      }
      const check = await kind.prepare({
        isFirstRun: opened.isNew && indexSize(state.index) === 0,
        role: session.policy.role,
      });
      if (!check.ok) {
        state.lastError = check.reason;
        if (check.reason !== lastRootProblem) {
          log.error(check.reason);
          // A share that never synced here has no state yet (creating one would make the next start not a first run).
          if (wasReady || !opened.isNew) await persist().catch(() => {});
          await tellHub(check.reason);
        }
        lastRootProblem = check.reason;
        await watcher?.close();
        watcher = undefined;
        batcher.cancel();
        pending.add("");
        await sleep(ROOT_RECHECK_MS, signal);
        continue;
      }
      wasReady = true;
      if (lastRootProblem) {
        log.info("share is usable again; resuming");
        await tellHub(null);
      }
      lastRootProblem = undefined;
      if (!watcher) {
        // Watch first, scan second: a change made while the scan runs is then caught by one or the other.
        watcher = kind.watch((path) => batcher.add(path));
        await watcher.ready;
      }

      const batch = new Set(pending);
      pending.clear();
      try {
        if (!progress && batch.has("") && indexSize(state.index) === 0 && kind.measure) {
          const total = await kind.measure();
          if (total.files >= PROGRESS_MIN_OPS) {
            progress = new ApplyProgress(
              { stateDir: session.stateDir, share: share.name, log, direction: "sending" },
              total,
              0,
            );
            progress.report();
          }
        }
        let started = Date.now();
        // Blocks go up as they are hashed (read and hashed once); the reports then find the hub holds them.
        const known = localBlockFinder(state.index);
        const ahead = new UploadAhead({
          upload: (parts) => client.uploadBlocks(parts),
          isKnown: (hash) => known(hash) !== undefined,
          onError: (error) =>
            log.debug("uploading blocks ahead of the report failed; the report sends them", {
              error: error.message,
            }),
        });
        // Sending ahead pays only where the hub lacks the content. With an empty index on a share the hub already
        // holds (a lost state file, a peer joining with a copy of the data) it starts off, and comes on once a
        // report shows the hub lacked most of what it named.
        if (indexSize(state.index) === 0) ahead.enabled = !(await committedEntriesOnHub());
        const report = async (part: KindScanResult) => {
          // Called when the part is complete: the blocks hashed for it so far are all it has.
          const sentAhead = ahead.barrier();
          for (const path of part.unstable) batcher.add(path);
          const sentBefore = await sentAhead;
          const outcome = await reportChanges(
            client,
            share.name,
            (at) => kind.readBlock(at),
            state,
            part,
            log,
            persist,
            { withBase: session.policy.receives },
          );
          for (const path of outcome.stale) batcher.add(path);
          const partBytes = changedBytes(part);
          if (!ahead.enabled && partBytes > 0 && outcome.uploadedBytes * 2 >= partBytes) ahead.enabled = true;
          if (progress && outcome.reported > 0) {
            let bytes = 0;
            for (const path of part.changed) bytes += part.updates.get(path)?.size ?? 0;
            progress.advance(outcome.reported, bytes);
          }
          if (outcome.held) throw new HeldReportError(outcome.held.reason, outcome.held.paths);
          if (outcome.reported > 0) {
            log.info("changes reported", {
              entries: outcome.reported,
              // Sent as hashed, and sent because the report's answer asked for them.
              uploadedBlocks: outcome.uploadedBlocks + sentBefore.blocks,
              uploadedBytes: outcome.uploadedBytes + sentBefore.bytes,
              uploadedAheadBytes: sentBefore.bytes,
              hashedBytes: part.hashedBytes,
              ms: Date.now() - started,
            });
          }
          started = Date.now();
        };
        const scanStarted = Date.now();
        await session.exclusive(() =>
          whileBusy(async () =>
            report(
              await kind.scan({
                dirty: batch,
                index: state.index,
                flush: report,
                onBlock: (hash, bytes) => ahead.offer(hash, bytes),
              }),
            ),
          ),
        );
        // The start-up scan (and each periodic rescan) ends here: the bench's restart figure waits for this line.
        if (batch.has(""))
          log.info("full scan finished", {
            entries: indexSize(state.index),
            ms: Date.now() - scanStarted,
          });
        if (progress) {
          await progress.finish();
          progress = undefined;
        }
        if (state.lastError) {
          state.lastError = null;
          await persist();
          await tellHub(null);
        }
        if (lastHeld) log.info("the held delete was confirmed and reported");
        lastHeld = undefined;
        attempt = 0;
      } catch (error) {
        if (error instanceof HeldReportError) {
          // Nothing was deleted anywhere; the paths stay pending until a person confirms or the files are back.
          for (const path of batch) pending.add(path);
          for (const path of error.paths) pending.add(path);
          if (error.message !== lastHeld) {
            log.error(error.message);
            state.lastError = error.message;
            await persist().catch(() => {});
            await tellHub(error.message);
          }
          lastHeld = error.message;
          await sleep(HELD_RETRY_MS, signal);
          continue;
        }
        for (const path of batch) pending.add(path);
        attempt++;
        const retryable = !(error instanceof FleetsyncError) || error.retryable;
        const wait = retryable ? backoffMs(attempt, Math.random()) : 60_000;
        state.lastError = (error as Error).message;
        log[retryable ? "warn" : "error"]("could not report changes; will retry", {
          error: (error as Error).message,
          retryInMs: wait,
        });
        await persist().catch(() => {});
        await sleep(wait, signal);
      }
    }
  } finally {
    if (rescan) clearInterval(rescan);
    batcher.cancel();
    await watcher?.close();
    if (wasReady || !opened.isNew) await persist().catch(() => {});
    stopReuploads.abort();
    await reuploading;
  }
}

/** The file bytes a part reports (new and changed files, at their new size). */
function changedBytes(part: KindScanResult): number {
  let bytes = 0;
  for (const path of part.changed) {
    const entry = part.updates.get(path);
    if (entry?.type === "file") bytes += entry.size;
  }
  return bytes;
}

/** The hub held a report that would delete most of the share; it waits for `fleetsync share confirm-delete`. */
class HeldReportError extends Error {
  override name = "HeldReportError";
  constructor(
    message: string,
    readonly paths: string[],
  ) {
    super(message);
  }
}
