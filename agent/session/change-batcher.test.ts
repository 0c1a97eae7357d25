import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { ChangeBatcher, type Clock } from "./change-batcher.ts";

/** A clock that only moves when the test says so, running due timers in order. */
class FakeClock implements Clock {
  private time = 0;
  private nextId = 1;
  private timers = new Map<number, { at: number; fn: () => void }>();

  now(): number {
    return this.time;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.timers.set(id, { at: this.time + Math.max(0, ms), fn });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }
  get pendingTimers(): number {
    return this.timers.size;
  }
  advance(ms: number): void {
    const until = this.time + ms;
    while (true) {
      const due = [...this.timers.entries()]
        .filter(([, t]) => t.at <= until)
        .sort(([idA, a], [idB, b]) => a.at - b.at || idA - idB)[0];
      if (!due) break;
      const [id, timer] = due;
      this.timers.delete(id);
      this.time = timer.at;
      timer.fn();
    }
    this.time = until;
  }
}

function setup(debounceMs = 100, maxDelayMs = 1000) {
  const clock = new FakeClock();
  const flushes: { at: number; paths: string[] }[] = [];
  const batcher = new ChangeBatcher({
    debounceMs,
    maxDelayMs,
    clock,
    flush: (paths) => flushes.push({ at: clock.now(), paths: [...paths].sort() }),
  });
  return { clock, flushes, batcher };
}

describe("ChangeBatcher", () => {
  test("flushes one quiet window after a single event", () => {
    const { clock, flushes, batcher } = setup();
    batcher.add("a");
    clock.advance(99);
    expect(flushes).toEqual([]);
    clock.advance(1);
    expect(flushes).toEqual([{ at: 100, paths: ["a"] }]);
    expect(batcher.size).toBe(0);
  });

  test("restarts the quiet window on every event", () => {
    const { clock, flushes, batcher } = setup();
    batcher.add("a");
    clock.advance(80);
    batcher.add("b");
    clock.advance(80);
    expect(flushes).toEqual([]);
    batcher.add("c");
    clock.advance(99);
    expect(flushes).toEqual([]);
    clock.advance(1);
    expect(flushes).toEqual([{ at: 260, paths: ["a", "b", "c"] }]);
  });

  test("coalesces a burst into one flush holding every path once", () => {
    const { clock, flushes, batcher } = setup();
    for (const path of ["x", "y", "x", "z", "y", "x"]) batcher.add(path);
    expect(batcher.size).toBe(3);
    clock.advance(10_000);
    expect(flushes).toEqual([{ at: 100, paths: ["x", "y", "z"] }]);
  });

  test("still flushes at maxDelayMs while events keep coming", () => {
    const { clock, flushes, batcher } = setup(100, 1000);
    for (let t = 0; t <= 1500; t += 50) {
      batcher.add(`f${t}`);
      clock.advance(50);
    }
    expect(flushes[0]?.at).toBe(1000);
    expect(flushes[0]?.paths).toHaveLength(20); // events at 0, 50, ..., 950
    expect(flushes[0]?.paths).not.toContain("f1000");
  });

  test("starts a new batch after a flush, with its own deadline", () => {
    const { clock, flushes, batcher } = setup(100, 300);
    batcher.add("a");
    clock.advance(100);
    clock.advance(500);
    batcher.add("b");
    clock.advance(100);
    expect(flushes).toEqual([
      { at: 100, paths: ["a"] },
      { at: 700, paths: ["b"] },
    ]);
  });

  test("flushes at once on flushNow and leaves no timer behind", () => {
    const { clock, flushes, batcher } = setup();
    batcher.add("a");
    batcher.add("b");
    batcher.flushNow();
    expect(flushes).toEqual([{ at: 0, paths: ["a", "b"] }]);
    expect(clock.pendingTimers).toBe(0);
    clock.advance(1000);
    expect(flushes).toHaveLength(1);
  });

  test("does not call flush for an empty batch", () => {
    const { flushes, batcher } = setup();
    batcher.flushNow();
    expect(flushes).toEqual([]);
  });

  test("drops pending paths on cancel and never flushes them", () => {
    const { clock, flushes, batcher } = setup();
    batcher.add("a");
    batcher.cancel();
    expect(batcher.size).toBe(0);
    expect(clock.pendingTimers).toBe(0);
    clock.advance(10_000);
    expect(flushes).toEqual([]);
    batcher.add("b");
    clock.advance(100);
    expect(flushes).toEqual([{ at: 10_100, paths: ["b"] }]);
  });

  test("accepts events added from inside the flush callback into the next batch", () => {
    const clock = new FakeClock();
    const flushes: string[][] = [];
    const batcher: ChangeBatcher = new ChangeBatcher({
      debounceMs: 100,
      maxDelayMs: 1000,
      clock,
      flush: (paths) => {
        flushes.push([...paths]);
        if (flushes.length === 1) batcher.add("again");
      },
    });
    batcher.add("a");
    clock.advance(100);
    clock.advance(100);
    expect(flushes).toEqual([["a"], ["again"]]);
  });

  test("loses no path, flushes each event within maxDelayMs, and waits a quiet window unless at the cap", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 200 }),
        fc.integer({ min: 0, max: 1000 }),
        fc.array(fc.record({ gap: fc.nat({ max: 300 }), path: fc.constantFrom("a", "b", "c", "d/e") }), {
          maxLength: 40,
        }),
        (debounceMs, extra, events) => {
          const maxDelayMs = debounceMs + extra;
          const { clock, flushes, batcher } = setup(debounceMs, maxDelayMs);
          // Each event belongs to the first flush after it: the one at index "flushes so far".
          const added: { at: number; path: string; batch: number }[] = [];
          for (const { gap, path } of events) {
            clock.advance(gap);
            batcher.add(path);
            added.push({ at: clock.now(), path, batch: flushes.length });
          }
          clock.advance(maxDelayMs + 1);
          expect(batcher.size).toBe(0);
          expect(flushes.length).toBe(new Set(added.map((e) => e.batch)).size);
          flushes.forEach((flush, index) => {
            const batch = added.filter((e) => e.batch === index);
            expect(flush.paths).toEqual([...new Set(batch.map((e) => e.path))].sort());
            const first = Math.min(...batch.map((e) => e.at));
            const last = Math.max(...batch.map((e) => e.at));
            expect(flush.at - first).toBeLessThanOrEqual(maxDelayMs);
            // Either a full quiet window followed the last event, or the batch hit its cap.
            expect(flush.at - last === debounceMs || flush.at - first === maxDelayMs).toBe(true);
          });
        },
      ),
      { numRuns: 500 },
    );
  });
});
