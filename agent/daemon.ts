// The agent daemon's composition root: config, identity and hub client, then one task per share until aborted.
import { loadAgentConfig, resolveShares } from "./config/agent-config.ts";
import { HubClient } from "./hub/hub-client.ts";
import { runHeartbeat } from "./hub/run-heartbeat.ts";
import { loadDeviceKey, loadPinnedJwks } from "./identity/device-identity.ts";
import { createAgentLogger } from "./log/agent-logger.ts";
import { openReplicaShare } from "./replica/replica-share.ts";
import { runInstructionLoop } from "./replica/run-instruction-loop.ts";
import { runSourceShare } from "./source/run-source-share.ts";

export async function runAgent(stateDir: string, signal: AbortSignal): Promise<void> {
  const config = await loadAgentConfig(stateDir);
  const log = createAgentLogger(config.log.level, config.log.destination, { device: config.deviceId });
  const client = new HubClient({
    hubUrl: config.hub,
    hubId: config.hubId,
    deviceId: config.deviceId,
    key: await loadDeviceKey(stateDir),
  });
  const jwks = await loadPinnedJwks(stateDir);
  const shares = resolveShares(config);
  const tasks: Promise<void>[] = [];
  const guard = (name: string, task: Promise<void>) =>
    task.catch((error) =>
      log.error("share task stopped on an unexpected error", {
        share: name,
        error: String(error?.stack ?? error),
      }),
    );

  for (const share of shares) {
    const shareLog = log.child({ share: share.name });
    if (share.kind === "pihole") {
      shareLog.error("Pi-hole shares are not supported by this agent version yet; skipping this share");
    } else if (share.role === "peer") {
      shareLog.error(
        "two-way (peer) shares are not supported by this agent version yet; skipping this share",
      );
    } else if (share.role === "source") {
      tasks.push(guard(share.name, runSourceShare({ client, share, stateDir, log: shareLog, signal })));
    }
  }
  const replicaShares = shares.filter((s) => s.role === "replica" && s.kind === "folder");
  if (replicaShares.length > 0) {
    const replicas = await Promise.all(
      replicaShares.map((share) =>
        openReplicaShare(share, { client, stateDir, log: log.child({ share: share.name }), signal }),
      ),
    );
    tasks.push(
      guard(
        "replicas",
        runInstructionLoop({
          client,
          replicas,
          jwks,
          hubId: config.hubId,
          deviceId: config.deviceId,
          log,
          signal,
        }),
      ),
    );
  } else {
    // Without a long-poll the hub would not hear from a source between changes and call it offline.
    tasks.push(guard("heartbeat", runHeartbeat({ client, log, signal })));
  }
  log.info("agent started", {
    hub: config.hub,
    shares: shares.map((s) => `${s.name}:${s.role}${s.dryRun ? " (dry run)" : ""}`),
  });
  await Promise.all(tasks);
  log.info("agent stopped");
}
