// The local Workers hub's cron matching: wrangler.toml's two triggers fire when Cloudflare would, and odd syntax is refused.
import { afterEach, describe, expect, test, vi } from "vitest";
import { cronMatches, startLocalCronTriggers } from "./local-cron-triggers.ts";

describe("cronMatches", () => {
  test("every minute is due in every minute; the hourly trigger only at minute 0", () => {
    expect(cronMatches("* * * * *", new Date("2026-12-02T04:17:00Z"))).toBe(true);
    expect(cronMatches("0 * * * *", new Date("2026-12-02T04:17:00Z"))).toBe(false);
    expect(cronMatches("0 * * * *", new Date("2026-12-02T05:00:00Z"))).toBe(true);
  });

  test("steps, lists and the day fields count in UTC", () => {
    expect(cronMatches("*/15 * * * *", new Date("2026-12-02T04:30:00Z"))).toBe(true);
    expect(cronMatches("*/15 * * * *", new Date("2026-12-02T04:31:00Z"))).toBe(false);
    expect(cronMatches("5,35 3 2 12 *", new Date("2026-12-02T03:35:00Z"))).toBe(true);
    // 2026-12-02 is a Wednesday (3).
    expect(cronMatches("0 0 * * 3", new Date("2026-12-02T00:00:00Z"))).toBe(true);
    expect(cronMatches("0 0 * * 4", new Date("2026-12-02T00:00:00Z"))).toBe(false);
  });

  test("a step in the day and month fields counts from 1, as in cron; weekday 7 is Sunday", () => {
    // "*/2" in day-of-month is the 1st, 3rd, 5th …; in month, January, March, May …
    expect(cronMatches("0 0 */2 * *", new Date("2026-12-01T00:00:00Z"))).toBe(true);
    expect(cronMatches("0 0 */2 * *", new Date("2026-12-02T00:00:00Z"))).toBe(false);
    expect(cronMatches("0 0 1 */2 *", new Date("2026-01-01T00:00:00Z"))).toBe(true);
    expect(cronMatches("0 0 1 */2 *", new Date("2026-02-01T00:00:00Z"))).toBe(false);
    // 2026-12-06 is a Sunday.
    expect(cronMatches("0 0 * * 7", new Date("2026-12-06T00:00:00Z"))).toBe(true);
    expect(cronMatches("0 0 * * 7", new Date("2026-12-07T00:00:00Z"))).toBe(false);
  });

  test("with both day fields restricted, a day matching either is due (cron's rule)", () => {
    // The 15th, or any Wednesday: 2026-12-02 is a Wednesday, 2026-12-15 a Tuesday, 2026-12-03 a Thursday.
    expect(cronMatches("0 0 15 * 3", new Date("2026-12-02T00:00:00Z"))).toBe(true);
    expect(cronMatches("0 0 15 * 3", new Date("2026-12-15T00:00:00Z"))).toBe(true);
    expect(cronMatches("0 0 15 * 3", new Date("2026-12-03T00:00:00Z"))).toBe(false);
  });

  test("syntax the local hub does not run is refused, naming the expression", () => {
    expect(() => cronMatches("0 9 * * MON-FRI", new Date())).toThrow(
      /the cron trigger "0 9 \* \* MON-FRI" in wrangler.toml uses syntax/,
    );
    expect(() => cronMatches("* * *", new Date())).toThrow(/"\* \* \*"/);
  });
});

describe("startLocalCronTriggers", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  test("fires each due cron at the start of every minute, the hourly one only on the hour, until stopped", async () => {
    vi.useFakeTimers({ now: new Date("2026-12-02T04:58:30Z") });
    const fired: string[] = [];
    const stop = startLocalCronTriggers({
      crons: ["0 * * * *", "* * * * *"],
      fire: async (cron, at) => {
        fired.push(`${at.toISOString().slice(11, 16)} ${cron}`);
      },
      onError: () => {},
    });
    await vi.advanceTimersByTimeAsync(29_000);
    expect(fired).toEqual([]);
    await vi.advanceTimersByTimeAsync(2_000 + 60_000);
    expect(fired).toEqual(["04:59 * * * * *", "05:00 0 * * * *", "05:00 * * * * *"]);
    stop();
    await vi.advanceTimersByTimeAsync(180_000);
    expect(fired).toHaveLength(3);
  });

  test("a trigger whose handler fails is reported and the next minute still fires", async () => {
    vi.useFakeTimers({ now: new Date("2026-12-02T04:10:59Z") });
    const errors: string[] = [];
    let calls = 0;
    const stop = startLocalCronTriggers({
      crons: ["* * * * *"],
      fire: async () => {
        calls++;
        throw new Error("outcome exception");
      },
      onError: (cron, error) => errors.push(`${cron}: ${(error as Error).message}`),
    });
    await vi.advanceTimersByTimeAsync(61_000);
    stop();
    expect(calls).toBe(2);
    expect(errors).toEqual(["* * * * *: outcome exception", "* * * * *: outcome exception"]);
  });

  test("a cron it cannot run fails the start", () => {
    expect(() =>
      startLocalCronTriggers({ crons: ["@hourly"], fire: async () => {}, onError: () => {} }),
    ).toThrow(/"@hourly"/);
  });
});
