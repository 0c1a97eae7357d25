// One hub per test file, each test's fleet on it with a share of its own: the hub start is a fleet's slowest step.
import { afterAll, beforeAll } from "vitest";
import { type Fleet, removeHub, startFleet, startSharedHub, type TestHub } from "./fleet.ts";

/** Registers the file's hub (started before its tests, removed after) and returns its startFleet. */
export function useSharedHubFleets(): (options?: Parameters<typeof startFleet>[0]) => Promise<Fleet> {
  let hub: TestHub | undefined;
  beforeAll(async () => {
    hub = await startSharedHub();
  }, 300_000);
  afterAll(() => removeHub(hub), 60_000);
  let shares = 0;
  return (options = {}) => {
    if (!hub) throw new Error("this file's hub did not start (see beforeAll)");
    return startFleet({ ...options, onHub: hub, share: `docs-${++shares}` });
  };
}
