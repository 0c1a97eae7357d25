// A fixed-window counter per key in memory: the RateLimiter for one process (or one isolate).
import type { RateLimiter } from "../ports/rate-limiter.ts";

export function createWindowRateLimiter(limit: number, windowMs: number): RateLimiter {
  const windows = new Map<string, { start: number; count: number }>();
  return {
    async hit(key, nowMs) {
      let window = windows.get(key);
      if (!window || nowMs - window.start >= windowMs) {
        if (windows.size > 10_000) windows.clear();
        window = { start: nowMs, count: 0 };
        windows.set(key, window);
      }
      window.count++;
      return window.count > limit ? Math.ceil((window.start + windowMs - nowMs) / 1000) : 0;
    },
  };
}
