import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { backoffMs, DEFAULT_BACKOFF, sleep } from "./backoff.ts";

const options = { baseMs: 100, capMs: 5000 };

describe("backoffMs", () => {
  test.each([
    [1, 0, 50],
    [1, 1, 100],
    [2, 0, 100],
    [2, 1, 200],
    [3, 0.5, 300],
    [6, 1, 3200],
    [7, 1, 5000],
    [7, 0, 2500],
    [50, 0.999, 4998],
  ])("waits for attempt %i with random %d: %i ms", (attempt, random, expected) => {
    expect(backoffMs(attempt, random, options)).toBe(expected);
  });

  test("treats attempt 0 and below like the first retry", () => {
    expect(backoffMs(0, 1, options)).toBe(100);
    expect(backoffMs(-3, 1, options)).toBe(100);
  });

  test("stays within [ceiling/2, ceiling] with the ceiling doubling from baseMs up to capMs", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2000 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 1, max: 1_000_000 }),
        (attempt, random, baseMs, capMs) => {
          const ceiling = Math.min(capMs, baseMs * 2 ** (attempt - 1));
          const ms = backoffMs(attempt, random, { baseMs, capMs });
          expect(Number.isInteger(ms)).toBe(true);
          expect(ms).toBeGreaterThanOrEqual(Math.floor(ceiling / 2));
          expect(ms).toBeLessThanOrEqual(Math.ceil(ceiling));
          expect(ms).toBeLessThanOrEqual(Math.max(capMs, baseMs));
        },
      ),
      { numRuns: 2000 },
    );
  });

  test("never waits less on a later attempt than an earlier one with the same random", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 60 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (attempt, random) => {
          expect(backoffMs(attempt + 1, random)).toBeGreaterThanOrEqual(backoffMs(attempt, random));
        },
      ),
    );
  });

  test("caps the default backoff at 30 s and starts it at 250 ms", () => {
    expect(backoffMs(1, 1)).toBe(DEFAULT_BACKOFF.baseMs);
    expect(backoffMs(1000, 1)).toBe(30_000);
    expect(backoffMs(1000, 0)).toBe(15_000);
  });
});

describe("sleep", () => {
  test("settles at once when the signal is already aborted", async () => {
    const started = performance.now();
    await sleep(60_000, AbortSignal.abort());
    expect(performance.now() - started).toBeLessThan(1000);
  });

  test("settles early when the signal aborts while sleeping", async () => {
    const controller = new AbortController();
    const sleeping = sleep(60_000, controller.signal);
    controller.abort();
    await expect(sleeping).resolves.toBeUndefined();
  });
});
