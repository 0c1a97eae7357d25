// The agent daemon's composition root: config, identity and hub client, then one session per share until aborted.
import { loadAgentConfig, resolveShares } from "./config/agent-config.ts";
import { checkSharePaths } from "./config/check-share-paths.ts";
import { HubClient } from "./hub/hub-client.ts";
import { nodeHttpFetch } from "./hub/node-http-fetch.ts";
import { runHeartbeat } from "./hub/run-heartbeat.ts";
import { loadDeviceKey, loadPinnedJwks } from "./identity/device-identity.ts";
import { createShareKind } from "./kinds/registry.ts";
import type { ShareKind } from "./kinds/share-kind.ts";
import { createAgentLogger } from "./log/agent-logger.ts";
import { guardReceivingSide } from "./session/guard-share-session.ts";
import type { ReceivingSide } from "./session/receive-instructions.ts";
import { runInstructionLoop } from "./session/run-instruction-loop.ts";
import { createShareSession } from "./session/share-session.ts";
import { superviseTask } from "./supervise-task.ts";

/** Rejects (one readable FleetsyncError) only for what stops the whole agent: config, identity, share paths. */
export async function runAgent(stateDir: string, signal: AbortSignal): Promise<void> {
  const config = await loadAgentConfig(stateDir);
  const shares = resolveShares(config);
  await checkSharePaths({
    stateDir,
    shares: Object.fromEntries(shares.filter((s) => s.kind === "folder").map((s) => [s.name, s.path])),
  });
  const key = await loadDeviceKey(stateDir);
  const jwks = await loadPinnedJwks(stateDir);
  const log = createAgentLogger({
    level: config.log.level,
    destination: config.log.destination,
    format: config.log.format,
    base: { device: config.deviceId },
  });
  const client = new HubClient({
    hubUrl: config.hub,
    hubId: config.hubId,
    deviceId: config.deviceId,
    key,
    // node:http instead of fetch: undici alone would be ~11 MiB of the idle daemon's RSS (issue 10).
    fetch: nodeHttpFetch,
  });
  const tasks: Promise<void>[] = [];
  const receivers: ReceivingSide[] = [];

  for (const share of shares) {
    const shareLog = log.child({ share: share.name });
    let kind: ShareKind;
    try {
      kind = createShareKind(share, {
        shareName: share.name,
        stateDir,
        log: shareLog,
        describeShare: async () => (await client.config()).shares.find((s) => s.name === share.name),
      });
    } catch (error) {
      // One share this agent cannot run (an unknown kind, bad kind settings) never stops the others.
      shareLog.error(`${(error as Error).message}; skipping this share`);
      continue;
    }
    const session = createShareSession(share, kind, { client, stateDir, log: shareLog, signal });
    if (session.policy.sends) {
      tasks.push(superviseTask(() => session.runSending(), { name: share.name, log: shareLog, signal }));
    }
    if (session.policy.receives) {
      // Each share opens itself inside the loop, so one that cannot open is retried without holding up the rest.
      receivers.push(
        guardReceivingSide(share, { log: shareLog, signal, open: async () => session.receiving }),
      );
    }
  }
  if (receivers.length > 0) {
    tasks.push(
      superviseTask(
        () =>
          runInstructionLoop({
            client,
            replicas: receivers,
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
