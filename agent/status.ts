// `agent status`: per share what this machine holds and how far behind the hub it is.
import { loadAgentConfig, resolveShares } from "./config/agent-config.ts";
import { HubClient } from "./hub/hub-client.ts";
import { loadDeviceKey } from "./identity/device-identity.ts";
import { loadShareState } from "./state/share-state.ts";

export async function agentStatus(stateDir: string) {
  const config = await loadAgentConfig(stateDir);
  const client = new HubClient({
    hubUrl: config.hub,
    hubId: config.hubId,
    deviceId: config.deviceId,
    key: await loadDeviceKey(stateDir),
  });
  let hubShares: Map<string, { head: number; cursor: number }> | undefined;
  let hubError: string | undefined;
  try {
    const answer = await client.config();
    hubShares = new Map(answer.shares.map((s) => [s.name, { head: s.head ?? 0, cursor: s.cursor ?? 0 }]));
  } catch (error) {
    hubError = (error as Error).message;
  }
  const shares = await Promise.all(
    resolveShares(config).map(async (share) => {
      const state = await loadShareState(stateDir, share.name).catch(() => undefined);
      const files = Object.values(state?.index ?? {}).filter((e) => e.type === "file");
      const hub = hubShares?.get(share.name);
      const cursor = share.role === "source" ? (hub?.head ?? null) : (state?.cursor ?? 0);
      return {
        name: share.name,
        role: share.role + (share.dryRun ? " (dry run)" : ""),
        root: share.path || "(not set)",
        files: files.length,
        bytes: files.reduce((sum, f) => sum + f.size, 0),
        lastChangeAt: state?.lastChangeAt ?? null,
        cursor,
        head: hub?.head ?? null,
        lag: hub && cursor !== null ? hub.head - cursor : null,
        lastError: state?.lastError ?? null,
      };
    }),
  );
  return { deviceId: config.deviceId, name: config.name, hub: config.hub, hubError, shares };
}
