// Bounds attempts per key (client address, alert id): the RateLimiter port.

export interface RateLimiter {
  /** Counts one attempt; resolves to the seconds to wait when over the limit, else 0. Async: on Workers a Durable Object counts. */
  hit(key: string, nowMs: number): Promise<number>;
}
