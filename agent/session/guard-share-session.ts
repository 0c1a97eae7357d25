// One receiving share that fails to open or prepare (an unreadable state file or root) never stops the others.
import { FleetsyncError } from "../../shared/errors/fleetsync-error.ts";
import type { ResolvedShare } from "../config/agent-config.ts";
import { backoffMs } from "../hub/backoff.ts";
import type { AgentLogger } from "../log/agent-logger.ts";
import { TASK_RESTART_BACKOFF } from "../supervise-task.ts";
import type { ReceivingSide } from "./receive-instructions.ts";

export type GuardReceivingDeps = {
  log: AgentLogger;
  signal: AbortSignal;
  /** Opens the share's receiving side (its session loads the state on first use). */
  open: (share: ResolvedShare) => Promise<ReceivingSide>;
  now?: () => number;
};

/**
 * A receiving share that opens itself on its first prepare(), and again after a backoff when opening fails; a local
 * error in prepare() is logged with the share's name and retried the same way. Hub errors go to the caller.
 */
export function guardReceivingSide(share: ResolvedShare, deps: GuardReceivingDeps): ReceivingSide {
  const open = deps.open;
  const now = deps.now ?? Date.now;
  let inner: ReceivingSide | undefined;
  let attempt = 0;
  let nextAttemptAt = 0;

  const failed = (what: string, error: unknown) => {
    attempt++;
    const retryInMs = backoffMs(attempt, Math.random(), TASK_RESTART_BACKOFF);
    nextAttemptAt = now() + retryInMs;
    deps.log.error(
      `share "${share.name}": ${what} failed: ${(error as Error)?.message ?? error}; retrying in ${retryInMs} ms`,
      {
        share: share.name,
        attempt,
        retryInMs,
      },
    );
    return false;
  };

  return {
    share,
    get ready() {
      return inner?.ready ?? false;
    },
    rescanDueInMs(nowMs) {
      return inner ? inner.rescanDueInMs(nowMs) : nextAttemptAt - nowMs;
    },
    async prepare() {
      if (now() < nextAttemptAt) return false;
      if (!inner) {
        try {
          inner = await open(share);
        } catch (error) {
          return failed("opening the share", error);
        }
      }
      try {
        const ready = await inner.prepare();
        attempt = 0;
        return ready;
      } catch (error) {
        if (error instanceof FleetsyncError || deps.signal.aborted) throw error;
        return failed("preparing the share", error);
      }
    },
    apply(instruction, instructionId) {
      if (!inner) throw new FleetsyncError("unavailable", `share "${share.name}" is not open yet`);
      return inner.apply(instruction, instructionId);
    },
    async retryFailed() {
      await inner?.retryFailed();
    },
    retryDueInMs(nowMs) {
      return inner ? inner.retryDueInMs(nowMs) : Number.POSITIVE_INFINITY;
    },
    async maintain() {
      await inner?.maintain();
    },
  };
}
