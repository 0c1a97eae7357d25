// A source share's life: full scan at start, then watch → debounce → scan dirty paths → report; hourly rescan.
import { FleetsyncError } from "../../shared/errors/fleetsync-error.ts";
import type { ResolvedShare } from "../config/agent-config.ts";
import { backoffMs, sleep } from "../hub/backoff.ts";
import type { HubClient } from "../hub/hub-client.ts";
import type { AgentLogger } from "../log/agent-logger.ts";
import { compileIgnoreRules } from "../scan/ignore-rules.ts";
import { type ScanResult, scanShare } from "../scan/scan-share.ts";
import { checkShareRoot } from "../scan/share-root.ts";
import { emptyShareState, loadShareState, saveShareState } from "../state/share-state.ts";
import { ChangeBatcher, systemClock } from "../watch/change-batcher.ts";
import { type ShareWatcher, watchShare } from "../watch/watch-share.ts";
import { reportChanges } from "./report-changes.ts";

const ROOT_RECHECK_MS = 5000;

export type SourceShareDeps = {
  client: HubClient;
  share: ResolvedShare;
  stateDir: string;
  log: AgentLogger;
  signal: AbortSignal;
};

export async function runSourceShare({
  client,
  share,
  stateDir,
  log,
  signal,
}: SourceShareDeps): Promise<void> {
  const loaded = await loadShareState(stateDir, share.name);
  const isFirstRun = loaded === undefined;
  const state = loaded ?? emptyShareState();
  const persist = () => saveShareState(stateDir, share.name, state);
  const isIgnored = compileIgnoreRules(share.ignore);
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
  let watcher: ShareWatcher | undefined;
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

  try {
    while (!signal.aborted) {
      if (pending.size === 0) {
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        continue;
      }
      const root = await checkShareRoot(
        share.name,
        share.path,
        isFirstRun && Object.keys(state.index).length === 0,
      );
      if (!root.ok) {
        if (root.reason !== lastRootProblem) log.error(root.reason);
        lastRootProblem = root.reason;
        state.lastError = root.reason;
        await watcher?.close();
        watcher = undefined;
        batcher.cancel();
        pending.add("");
        await sleep(ROOT_RECHECK_MS, signal);
        continue;
      }
      if (lastRootProblem) log.info("share root is back; resuming", { root: share.path });
      lastRootProblem = undefined;
      watcher ??= watchShare(share.path, isIgnored, (path) => batcher.add(path), log);

      const batch = new Set(pending);
      pending.clear();
      try {
        let started = Date.now();
        const report = async (part: ScanResult) => {
          for (const path of part.unstable) batcher.add(path);
          const outcome = await reportChanges(client, share.name, share.path, state, part, log, persist);
          for (const path of outcome.stale) batcher.add(path);
          if (outcome.reported > 0) {
            log.info("changes reported", {
              entries: outcome.reported,
              uploadedBlocks: outcome.uploadedBlocks,
              uploadedBytes: outcome.uploadedBytes,
              hashedBytes: part.hashedBytes,
              ms: Date.now() - started,
            });
          }
          started = Date.now();
        };
        await report(await scanShare(share.path, state.index, batch, isIgnored, log, { flush: report }));
        if (state.lastError) {
          state.lastError = null;
          await persist();
        }
        attempt = 0;
      } catch (error) {
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
    await persist().catch(() => {});
  }
}
