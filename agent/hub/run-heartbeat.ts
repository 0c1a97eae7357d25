// Keeps a device that does not long-poll (a source only) visible to the hub, so it is not reported offline.
import type { AgentLogger } from "../log/agent-logger.ts";
import { sleep } from "./backoff.ts";
import type { HubClient } from "./hub-client.ts";

/** Well inside the hub's 90 s online window and the shortest offline alert (1 min). */
export const HEARTBEAT_INTERVAL_MS = 30_000;

export async function runHeartbeat(deps: {
  client: Pick<HubClient, "config">;
  log: AgentLogger;
  signal: AbortSignal;
  intervalMs?: number;
}): Promise<void> {
  let failing = false;
  while (!deps.signal.aborted) {
    try {
      await deps.client.config();
      if (failing) deps.log.info("the hub answers again");
      failing = false;
    } catch (error) {
      if (!failing)
        deps.log.warn("could not reach the hub; will keep trying", { error: (error as Error).message });
      failing = true;
    }
    await sleep(deps.intervalMs ?? HEARTBEAT_INTERVAL_MS, deps.signal);
  }
}
