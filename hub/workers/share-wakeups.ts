// Wake-ups on Workers: one Durable Object per share parks that share's long-polls; a commit's notify wakes them all at once.

import type { Logger } from "../ports/logger.ts";
import type { Notifier } from "../ports/notifier.ts";

/**
 * One object per share, not one per hub: a commit wakes only the members of its share, each share's object
 * holds only its own members' waits (a fleet of many shares spreads over many objects instead of queueing on
 * one), and a device in k shares holds k waits — k is small.
 */
export interface DurableObjectNamespaceLike {
  idFromName(name: string): unknown;
  get(id: never): { fetch(input: string, init?: RequestInit): Promise<Response> };
}

const ORIGIN = "https://share-wakeups.internal";
/** A commit's answer waits at most this long on waking its share's long-polls; they poll again anyway. */
export const NOTIFY_TIMEOUT_MS = 5_000;

/** The Durable Object class (exported by hub/main.worker.ts, bound as WAKE in wrangler.toml). */
export class ShareWakeups {
  readonly #waiters = new Set<() => void>();

  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/notify") {
      const woken = this.#waiters.size;
      for (const wake of [...this.#waiters]) wake();
      return Response.json({ woken });
    }
    if (url.pathname === "/wait") {
      const timeoutMs = Math.max(0, Math.min(Number(url.searchParams.get("timeoutMs")) || 0, 120_000));
      const woken = await new Promise<boolean>((resolve) => {
        const done = (isWoken: boolean) => {
          clearTimeout(timer);
          this.#waiters.delete(wake);
          resolve(isWoken);
        };
        const wake = () => done(true);
        const timer = setTimeout(() => done(false), timeoutMs);
        this.#waiters.add(wake);
        request.signal?.addEventListener("abort", () => done(false), { once: true });
      });
      return Response.json({ woken });
    }
    return new Response("not found", { status: 404 });
  }
}

/** The Notifier over the WAKE namespace: notify and wait are calls to the share's object. */
export function createDurableObjectNotifier(namespace: DurableObjectNamespaceLike, log: Logger): Notifier {
  const stub = (share: string) => namespace.get(namespace.idFromName(share) as never);
  return {
    async notify(share) {
      try {
        const response = await stub(share).fetch(`${ORIGIN}/notify`, {
          method: "POST",
          signal: AbortSignal.timeout(NOTIFY_TIMEOUT_MS),
        });
        const { woken } = (await response.json()) as { woken: number };
        if (woken > 0) log.info("long-polls woken", { share, woken });
      } catch (error) {
        // The commit stands; waiters find it at their next poll.
        log.warn("waking the share's long-polls failed", { share, error: String(error) });
      }
    },
    async wait(shares, timeoutMs, signal) {
      if (shares.length === 0 || timeoutMs <= 0 || signal?.aborted) return;
      const local = new AbortController();
      const stop = () => local.abort();
      signal?.addEventListener("abort", stop, { once: true });
      try {
        await Promise.race(
          shares.map((share) =>
            stub(share)
              .fetch(`${ORIGIN}/wait?timeoutMs=${Math.ceil(timeoutMs)}`, { signal: local.signal })
              .then((response) => response.body?.cancel()),
          ),
        );
      } catch (error) {
        if (!local.signal.aborted) {
          log.warn("waiting on the share's wake-ups failed; polling instead", { error: String(error) });
          await new Promise((resolve) => setTimeout(resolve, Math.min(timeoutMs, 1000)));
        }
      } finally {
        signal?.removeEventListener("abort", stop);
        local.abort(); // the other shares' waits end with this one
      }
    },
  };
}
