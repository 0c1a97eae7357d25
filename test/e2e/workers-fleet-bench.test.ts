// The fleet benchmark's quick mode on both hubs: 100 simulated agents (on Workers over wake sockets), one commit, every agent gets its instruction, no errors.
import { describe, expect, test } from "vitest";
import { runFleetBench } from "../../bench/fleet-scenario.ts";
import type { HubKind } from "../support/fleet.ts";

describe.each<HubKind>(["node", "workers"])("the fleet benchmark, quick mode, on the %s hub", (hub) => {
  test("100 agents enrol with their own keys, wait (wake sockets on Workers, long-polls on Node), and every one gets the commit's instruction without an error", async () => {
    const result = await runFleetBench({ agents: 100, hub, dispatchTimeoutMs: 120_000 });
    expect(result.waitedOn).toBe(hub === "workers" ? "wake sockets" : "long-polls");
    expect(result.firstErrors).toEqual([]);
    expect(result.errors).toBe(0);
    expect(result.dispatched).toBe(100);
    expect(result.dispatchP99Ms).not.toBeNull();
  }, 600_000);
});
