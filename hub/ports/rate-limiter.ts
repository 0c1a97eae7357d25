// A fixed-window counter per key (client address), used to bound enrolment attempts.

export interface RateLimiter {
  /** Counts one attempt; returns the seconds to wait when over the limit, else 0. */
  hit(key: string, nowMs: number): number;
}

export function createWindowRateLimiter(limit: number, windowMs: number): RateLimiter {
  const windows = new Map<string, { start: number; count: number }>();
  return {
    hit(key, nowMs) {
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
