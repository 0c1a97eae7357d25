// The Notifier for one hub process: waiters parked in memory, woken by a commit in the same process.
import type { Notifier } from "../ports/notifier.ts";

export function createInProcessNotifier(): Notifier {
  const waiters = new Map<string, Set<() => void>>();
  return {
    async notify(share) {
      const set = waiters.get(share);
      if (!set) return;
      waiters.delete(share);
      for (const wake of set) wake();
    },
    wait(shares, timeoutMs, signal) {
      return new Promise((resolve) => {
        if (signal?.aborted) return resolve();
        const done = () => {
          clearTimeout(timer);
          signal?.removeEventListener("abort", done);
          for (const share of shares) waiters.get(share)?.delete(done);
          resolve();
        };
        const timer = setTimeout(done, timeoutMs);
        signal?.addEventListener("abort", done, { once: true });
        for (const share of shares) {
          let set = waiters.get(share);
          if (!set) {
            set = new Set();
            waiters.set(share, set);
          }
          set.add(done);
        }
      });
    },
  };
}
