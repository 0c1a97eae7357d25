import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { parseDurationMs } from "./parse-duration.ts";

describe("parseDurationMs", () => {
  test.each([
    ["500ms", 500],
    ["90s", 90_000],
    ["15m", 900_000],
    ["24h", 86_400_000],
    ["7d", 604_800_000],
    ["1.5h", 5_400_000],
    ["0.5s", 500],
    [" 30m ", 1_800_000],
    ["1.0004ms", 1],
  ])("reads %j as %i ms", (text, ms) => {
    expect(parseDurationMs(text)).toBe(ms);
  });

  test.each([
    ["nothing", ""],
    ["no unit", "7"],
    ["no number", "d"],
    ["a space before the unit", "7 d"],
    ["an uppercase unit", "7D"],
    ["an unknown unit", "7w"],
    ["a minus sign", "-1s"],
    ["zero length", "0s"],
    ["a length that rounds to zero", "0.4ms"],
    ["an exponent", "1e3s"],
    ["no leading digit", ".5s"],
    ["two parts", "1h30m"],
    ["more milliseconds than a safe integer holds", "800000000d"],
    ["a number too big to be finite", `${"9".repeat(400)}d`],
  ])("refuses a duration with %s", (_why, text) => {
    expect(parseDurationMs(text)).toBeUndefined();
  });

  test("gives a positive whole number of milliseconds whenever it accepts", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 8 }),
          fc
            .tuple(fc.stringMatching(/^\d{1,20}(\.\d{1,6})?$/), fc.constantFrom("ms", "s", "m", "h", "d"))
            .map(([n, unit]) => n + unit),
        ),
        (text) => {
          const ms = parseDurationMs(text);
          if (ms === undefined) return;
          expect(Number.isSafeInteger(ms)).toBe(true);
          expect(ms).toBeGreaterThan(0);
        },
      ),
      { numRuns: 1000 },
    );
  });

  test("scales the same number by each unit's length", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000 }), (n) => {
        expect(parseDurationMs(`${n}s`)).toBe(n * 1000);
        expect(parseDurationMs(`${n}m`)).toBe(n * 60 * 1000);
        expect(parseDurationMs(`${n}h`)).toBe(n * 60 * 60 * 1000);
        expect(parseDurationMs(`${n}d`)).toBe(n * 24 * 60 * 60 * 1000);
      }),
    );
  });
});
