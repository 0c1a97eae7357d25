// Which alert events are due, from the hub's state: once per problem, recovered when it clears.
import { describe, expect, test } from "vitest";
import { type AlertInputs, type AlertRule, errorSubject, offlineSubject, planAlerts } from "./alert-plan.ts";

const NOW = Date.UTC(2025, 0, 15, 12, 0, 0);
const rule: AlertRule = {
  id: "al_1",
  url: "http://127.0.0.1/hook",
  events: ["error", "offline", "conflict", "recovered"],
  offlineAfterMs: 5 * 60_000,
};
const base: AlertInputs = { rules: [rule], states: [], members: [], devices: [], conflicts: [], nowMs: NOW };
const pi = { id: "dev_pi", name: "pi-kitchen", lastSeenAt: NOW - 1000, shares: ["docs"] };

describe("planAlerts", () => {
  test("fires error with the agent's own words when a member starts failing", () => {
    const planned = planAlerts({
      ...base,
      members: [
        {
          share: "docs",
          deviceId: "dev_pi",
          deviceName: "pi-kitchen",
          lastError: "big.bin: disk full (ENOSPC)",
        },
      ],
    });
    expect(planned).toEqual([
      {
        alert: rule,
        change: {
          kind: "enter",
          alertId: "al_1",
          subject: errorSubject("docs", "dev_pi"),
          status: "error",
          since: NOW,
        },
        event: {
          what: "error",
          share: "docs",
          deviceId: "dev_pi",
          deviceName: "pi-kitchen",
          why: "big.bin: disk full (ENOSPC)",
          at: NOW,
        },
      },
    ]);
  });

  test("does not fire error again while the member keeps failing", () => {
    const planned = planAlerts({
      ...base,
      states: [
        { alertId: "al_1", subject: errorSubject("docs", "dev_pi"), status: "error", since: NOW - 60_000 },
      ],
      members: [{ share: "docs", deviceId: "dev_pi", deviceName: "pi-kitchen", lastError: "still full" }],
    });
    expect(planned).toEqual([]);
  });

  test("fires recovered once the member's error clears", () => {
    const planned = planAlerts({
      ...base,
      states: [
        { alertId: "al_1", subject: errorSubject("docs", "dev_pi"), status: "error", since: NOW - 60_000 },
      ],
      members: [{ share: "docs", deviceId: "dev_pi", deviceName: "pi-kitchen", lastError: null }],
    });
    expect(planned.map((p) => [p.change?.kind, p.event?.what])).toEqual([["leave", "recovered"]]);
  });

  test("forgets a failing member that left, without calling it recovered", () => {
    const planned = planAlerts({
      ...base,
      states: [
        { alertId: "al_1", subject: errorSubject("docs", "dev_pi"), status: "error", since: NOW - 60_000 },
      ],
    });
    expect(planned.map((p) => [p.change?.kind, p.event?.what])).toEqual([["leave", undefined]]);
  });

  test("fires offline for a device silent past the limit, and not before", () => {
    const silent = { ...pi, lastSeenAt: NOW - 5 * 60_000 - 1 };
    expect(planAlerts({ ...base, devices: [{ ...pi, lastSeenAt: NOW - 5 * 60_000 }] })).toEqual([]);
    const planned = planAlerts({ ...base, devices: [silent] });
    expect(planned).toHaveLength(1);
    expect(planned[0]?.event).toMatchObject({ what: "offline", share: "docs", deviceId: "dev_pi" });
    expect(planned[0]?.event?.why).toMatch(/^no contact for 5 min \(last seen 2025-01-15T11:54:59\.999Z\)$/);
  });

  test("fires recovered when an offline device is heard from again", () => {
    const planned = planAlerts({
      ...base,
      states: [
        { alertId: "al_1", subject: offlineSubject("dev_pi"), status: "offline", since: NOW - 60_000 },
      ],
      devices: [pi],
    });
    expect(planned.map((p) => [p.change?.kind, p.event?.what, p.event?.why])).toEqual([
      ["leave", "recovered", "back online"],
    ]);
  });

  test("fires one conflict event per conflict", () => {
    const planned = planAlerts({
      ...base,
      conflicts: [{ share: "docs", deviceId: "dev_pi", deviceName: "pi-kitchen", path: "a.txt", at: NOW }],
    });
    expect(planned.map((p) => p.event?.why)).toEqual([
      "conflicting change on a.txt; both versions were kept",
    ]);
  });

  test("sends only the events an alert asked for, but still tracks state for recovered", () => {
    const onlyRecovered: AlertRule = { ...rule, events: ["recovered"] };
    const planned = planAlerts({
      ...base,
      rules: [onlyRecovered],
      members: [{ share: "docs", deviceId: "dev_pi", deviceName: "pi", lastError: "x" }],
      devices: [{ ...pi, lastSeenAt: null }],
    });
    expect(planned.map((p) => [p.change?.kind, p.event?.what])).toEqual([
      ["enter", undefined],
      ["enter", undefined],
    ]);
    const offlineOnly: AlertRule = { ...rule, events: ["offline"] };
    expect(
      planAlerts({
        ...base,
        rules: [offlineOnly],
        members: [{ share: "docs", deviceId: "d", deviceName: "d", lastError: "x" }],
      }),
    ).toEqual([]);
  });

  test("keeps each alert's state apart", () => {
    const other: AlertRule = { ...rule, id: "al_2" };
    const planned = planAlerts({
      ...base,
      rules: [rule, other],
      states: [{ alertId: "al_1", subject: errorSubject("docs", "dev_pi"), status: "error", since: NOW }],
      members: [{ share: "docs", deviceId: "dev_pi", deviceName: "pi", lastError: "x" }],
    });
    expect(planned.map((p) => p.alert.id)).toEqual(["al_2"]);
  });
});
