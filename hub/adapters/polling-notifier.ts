// The Notifier for several hub processes over one database: checks a version function until it changes.
import type { Notifier } from "../ports/notifier.ts";
import { createInProcessNotifier } from "./in-process-notifier.ts";

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
