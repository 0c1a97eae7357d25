// Keeps one share's task alive: a task that throws (or ends early) is logged with its name and restarted after a backoff.
import { type BackoffOptions, backoffMs, sleep } from "./hub/backoff.ts";
import type { AgentLogger } from "./log/agent-logger.ts";

export const TASK_RESTART_BACKOFF: BackoffOptions = { baseMs: 1000, capMs: 30_000 };
/** A task that ran this long before failing starts its backoff over. */
const HEALTHY_RUN_MS = 5 * 60_000;

export type SuperviseOptions = {
  /** What the log calls the task: a share name, or "replicas" for the instruction loop. */
  name: string;
  log: AgentLogger;
  signal: AbortSignal;
  backoff?: BackoffOptions;
  random?: () => number;
  now?: () => number;
};

/** Runs `task` until `signal` aborts; never rejects. */
export async function superviseTask(task: () => Promise<void>, options: SuperviseOptions): Promise<void> {
  const { log, signal } = options;
  const now = options.now ?? Date.now;
  let attempt = 0;
  while (!signal.aborted) {
    const startedAt = now();
    let failure: string;
    try {
      await task();
      if (signal.aborted) return;
      failure = "it stopped on its own";
    } catch (error) {
      if (signal.aborted) return;
      failure = error instanceof Error ? error.message : String(error);
    }
    attempt = now() - startedAt > HEALTHY_RUN_MS ? 1 : attempt + 1;
    const retryInMs = backoffMs(
      attempt,
      (options.random ?? Math.random)(),
      options.backoff ?? TASK_RESTART_BACKOFF,
    );
    log.error(`share task "${options.name}" failed: ${failure}; restarting it in ${retryInMs} ms`, {
      share: options.name,
      attempt,
      retryInMs,
    });
    await sleep(retryInMs, signal);
  }
}
