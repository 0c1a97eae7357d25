// The Notifier for several hub processes over one database: one read of every share's head per interval while anyone waits.
import type { Notifier } from "../ports/notifier.ts";
import { createInProcessNotifier } from "./in-process-notifier.ts";

/** Every share's head, by share name (any value that changes when a commit moves the head). */
export type ReadHeads = () => Promise<Map<string, string | number>>;

/**
 * Commits in this process wake waiters at once; commits in another process are seen by this process's one poller,
 * which wakes the waiters of every share whose head moved since its previous read. The last read is kept while no
 * one waits, so a commit made meanwhile still wakes the next waiter (at worst a spurious wake; the long-poll
 * registers its wait before its last check, so a head read before that check is never the only news).
 */
export function createPollingNotifier(readHeads: ReadHeads, intervalMs = 500): Notifier {
  const local = createInProcessNotifier();
  let waiting = 0;
  let last: Map<string, string | number> | undefined;
  let polling = false;

  async function poll() {
    polling = true;
    try {
      while (true) {
        try {
          const heads = await readHeads();
          const previous = last;
          last = heads;
          if (previous) {
            for (const [share, head] of heads) if (previous.get(share) !== head) await local.notify(share);
          }
        } catch {
          // The database is briefly unreadable (locked, restarting): the next read catches up.
        }
        if (waiting === 0) return;
        await new Promise((resolve) => setTimeout(resolve, intervalMs));
      }
    } finally {
      polling = false;
    }
  }
  // The first baseline, so the very first waiter already has one to compare with.
  void poll();

  return {
    notify: local.notify,
    async wait(shares, timeoutMs, signal) {
      waiting++;
      if (!polling) void poll();
      try {
        await local.wait(shares, timeoutMs, signal);
      } finally {
        waiting--;
      }
    },
  };
}
