// The local Workers hub's cron matching: wrangler.toml's two triggers fire when Cloudflare would, and odd syntax is refused.
import { describe, expect, test } from "vitest";
import { cronMatches } from "./local-cron-triggers.ts";

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

  test("syntax the local hub does not run is refused, naming the expression", () => {
    expect(() => cronMatches("0 9 * * MON-FRI", new Date())).toThrow(
      /the cron trigger "0 9 \* \* MON-FRI" in wrangler.toml uses syntax/,
    );
    expect(() => cronMatches("* * *", new Date())).toThrow(/"\* \* \*"/);
  });
});
