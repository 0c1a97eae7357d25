// Wakes long-polls when a share's head moves: in-process for one hub, database polling for several.

export interface Notifier {
  notify(share: string): void;
  /** Resolves when any of `shares` is notified, after `timeoutMs`, or when `signal` aborts. */
  wait(shares: string[], timeoutMs: number, signal?: AbortSignal): Promise<void>;
}

export function createInProcessNotifier(): Notifier {
  const waiters = new Map<string, Set<() => void>>();
  return {
    notify(share) {
      const set = waiters.get(share);
      if (!set) return;
      waiters.delete(share);
      for (const wake of set) wake();
    },
    wait(shares, timeoutMs, signal) {
      return new Promise((resolve) => {
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

/** For several hub processes or Workers: checks a version function every `intervalMs` until it changes. */
export function createPollingNotifier(
  readVersion: (shares: string[]) => Promise<string>,
  intervalMs = 500,
): Notifier {
  const local = createInProcessNotifier();
  return {
    notify: local.notify,
    async wait(shares, timeoutMs, signal) {
      const deadline = Date.now() + timeoutMs;
      const start = await readVersion(shares);
      while (Date.now() < deadline && !signal?.aborted) {
        await local.wait(shares, Math.min(intervalMs, deadline - Date.now()), signal);
        if ((await readVersion(shares)) !== start) return;
      }
    },
  };
}
