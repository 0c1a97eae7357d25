// The agent daemon's composition root: config, identity and hub client, then one supervised task per share until aborted.
import { loadAgentConfig, resolveShares } from "./config/agent-config.ts";
import { checkSharePaths } from "./config/check-share-paths.ts";
import { guardReplicaShare } from "./guard-replica-share.ts";
import { HubClient } from "./hub/hub-client.ts";
import { runHeartbeat } from "./hub/run-heartbeat.ts";
import { loadDeviceKey, loadPinnedJwks } from "./identity/device-identity.ts";
import { createAgentLogger } from "./log/agent-logger.ts";
import { runInstructionLoop } from "./replica/run-instruction-loop.ts";
import { runSourceShare } from "./source/run-source-share.ts";
import { superviseTask } from "./supervise-task.ts";

/** Rejects (one readable FleetsyncError) only for what stops the whole agent: config, identity, share paths. */
export async function runAgent(stateDir: string, signal: AbortSignal): Promise<void> {
  const config = await loadAgentConfig(stateDir);
  const shares = resolveShares(config);
  await checkSharePaths({ stateDir, shares: Object.fromEntries(shares.map((s) => [s.name, s.path])) });
  const key = await loadDeviceKey(stateDir);
  const jwks = await loadPinnedJwks(stateDir);
  const log = createAgentLogger(config.log.level, config.log.destination, { device: config.deviceId });
  const client = new HubClient({ hubUrl: config.hub, hubId: config.hubId, deviceId: config.deviceId, key });
  const tasks: Promise<void>[] = [];

  for (const share of shares) {
    const shareLog = log.child({ share: share.name });
    if (share.kind === "pihole") {
      shareLog.error("Pi-hole shares are not supported by this agent version yet; skipping this share");
    } else if (share.role === "peer") {
      shareLog.error(
        "two-way (peer) shares are not supported by this agent version yet; skipping this share",
      );
    } else if (share.role === "source") {
      tasks.push(
        superviseTask(() => runSourceShare({ client, share, stateDir, log: shareLog, signal }), {
          name: share.name,
          log: shareLog,
          signal,
        }),
      );
    }
  }
  const replicaShares = shares.filter((s) => s.role === "replica" && s.kind === "folder");
  if (replicaShares.length > 0) {
    // Each replica opens itself inside the loop, so one that cannot open is retried without holding up the rest.
    const replicas = replicaShares.map((share) =>
      guardReplicaShare(share, { client, stateDir, log: log.child({ share: share.name }), signal }),
    );
    tasks.push(
      superviseTask(
        () =>
          runInstructionLoop({
            client,
            replicas,
            jwks,
            hubId: config.hubId,
            deviceId: config.deviceId,
            log,
            signal,
          }),
        { name: "replicas", log, signal },
      ),
    );
  } else {
    // Without a long-poll the hub would not hear from a source between changes and call it offline.
    tasks.push(
      superviseTask(() => runHeartbeat({ client, log, signal }), { name: "heartbeat", log, signal }),
    );
  }
  log.info("agent started", {
    hub: config.hub,
    shares: shares.map((s) => `${s.name}:${s.role}${s.dryRun ? " (dry run)" : ""}`),
  });
  await Promise.all(tasks);
  log.info("agent stopped");
}
