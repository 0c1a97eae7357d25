// The enrolment rate limit on Workers, counted across isolates: one Durable Object per key keeps that key's window.
import type { RateLimiter } from "../ports/rate-limiter.ts";
import type { DurableObjectNamespaceLike } from "./share-wakeups.ts";

type Storage = {
  get<T>(key: string): Promise<T | undefined>;
  put<T>(key: string, value: T): Promise<void>;
};

const ORIGIN = "https://rate-window.internal";

/** The Durable Object class (exported by hub/main.worker.ts, bound as LIMITS in wrangler.toml). */
export class RateWindow {
  readonly #storage: Storage;

  constructor(state: { storage: Storage }) {
    this.#storage = state.storage;
  }

  async fetch(request: Request): Promise<Response> {
    const params = new URL(request.url).searchParams;
    const [limit, windowMs, nowMs] = ["limit", "windowMs", "nowMs"].map((name) => Number(params.get(name)));
    if (!limit || !windowMs || !nowMs)
      return new Response("limit, windowMs and nowMs are required", { status: 400 });
    let window = await this.#storage.get<{ start: number; count: number }>("window");
    if (!window || nowMs - window.start >= windowMs) window = { start: nowMs, count: 0 };
    window.count++;
    await this.#storage.put("window", window);
    const retryAfterSeconds = window.count > limit ? Math.ceil((window.start + windowMs - nowMs) / 1000) : 0;
    return Response.json({ retryAfterSeconds });
  }
}

/** The RateLimiter over the LIMITS namespace: every isolate counts in the same object for a key. */
export function createDurableObjectRateLimiter(
  namespace: DurableObjectNamespaceLike,
  options: { limit: number; windowMs: number; scope: string },
): RateLimiter {
  return {
    async hit(key, nowMs) {
      const stub = namespace.get(namespace.idFromName(`${options.scope}:${key}`) as never);
      const query = new URLSearchParams({
        limit: String(options.limit),
        windowMs: String(options.windowMs),
        nowMs: String(nowMs),
      });
      const response = await stub.fetch(`${ORIGIN}/hit?${query}`, { method: "POST" });
      if (!response.ok) throw new Error(`rate window answered ${response.status}: ${await response.text()}`);
      return ((await response.json()) as { retryAfterSeconds: number }).retryAfterSeconds;
    },
  };
}
