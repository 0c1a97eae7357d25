// Wakes long-polls when a share's head moves: the Notifier port (in-process, database polling, Durable Object).

export interface Notifier {
  /**
   * Wakes every wait on `share`; async because on Workers it is a call to a Durable Object. Never rejects: the
   * commit it follows has happened, and a lost wake-up only delays waiters until their next poll.
   */
  notify(share: string): Promise<void>;
  /** Resolves when any of `shares` is notified, after `timeoutMs`, or when `signal` aborts. */
  wait(shares: string[], timeoutMs: number, signal?: AbortSignal): Promise<void>;
}
