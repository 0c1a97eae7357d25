// The one-word member status the dashboard shows and sorts by.
import { describe, expect, test } from "vitest";
import { type MemberFacts, memberStatus, statusRank } from "./dashboard-member-status.ts";

const NOW = 1_000_000_000;
const healthy: MemberFacts = {
  role: "replica",
  lag: 0,
  lastError: null,
  lastSeenAt: NOW - 1000,
  lastApplyAt: NOW - 1000,
  revoked: false,
  approval: "approved",
  hasPendingInstruction: false,
};

describe("memberStatus", () => {
  test.each([
    ["up to date", {}],
    ["erroring", { lastError: "big.bin: disk full (ENOSPC)" }],
    ["offline", { lastSeenAt: NOW - 5 * 60_000 }],
    ["offline", { lastSeenAt: null }],
    ["syncing", { lag: 3 }],
    ["syncing", { lag: 3, lastApplyAt: null, hasPendingInstruction: true }],
    ["behind", { lag: 3, lastApplyAt: NOW - 10 * 60_000 }],
    ["pending", { approval: "pending" as const, lag: 3 }],
    ["revoked", { revoked: true, lastError: "x" }],
    ["revoked", { approval: "denied" as const }],
  ])("says %s for %j", (want, change) => {
    expect(memberStatus({ ...healthy, ...change }, NOW)).toBe(want);
  });

  test("ranks errors before offline before behind before up to date", () => {
    const order = (["up to date", "behind", "erroring", "offline"] as const).toSorted(
      (a, b) => statusRank(a) - statusRank(b),
    );
    expect(order).toEqual(["erroring", "offline", "behind", "up to date"]);
  });
});
