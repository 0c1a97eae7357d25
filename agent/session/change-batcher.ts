// Coalesces bursts of change events: a self-resetting quiet window, capped so constant writes still flush.

export type Clock = {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
};

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export type ChangeBatcherOptions = {
  debounceMs: number;
  maxDelayMs: number;
  clock: Clock;
  flush: (paths: Set<string>) => void;
};

export class ChangeBatcher {
  private pending = new Set<string>();
  private firstAt = 0;
  private timer: unknown;

  constructor(private readonly options: ChangeBatcherOptions) {}

  get size(): number {
    return this.pending.size;
  }

  add(path: string): void {
    const { clock, debounceMs, maxDelayMs } = this.options;
    const now = clock.now();
    if (this.pending.size === 0) this.firstAt = now;
    this.pending.add(path);
    if (this.timer !== undefined) clock.clearTimeout(this.timer);
    const wait = Math.max(0, Math.min(debounceMs, this.firstAt + maxDelayMs - now));
    this.timer = clock.setTimeout(() => this.flushNow(), wait);
  }

  flushNow(): void {
    if (this.timer !== undefined) this.options.clock.clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Set();
    this.options.flush(batch);
  }

  cancel(): void {
    if (this.timer !== undefined) this.options.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.pending.clear();
  }
}
