// `agent status`: whether the agent runs, and per share what this machine holds and how far behind the hub it is.
import { readFile } from "node:fs/promises";
import { isConflictName } from "../shared/paths/conflict-name.ts";
import { PRESENCE_HEADER } from "../shared/protocol/messages.ts";
import { loadAgentConfig, resolveShares } from "./config/agent-config.ts";
import { HubClient } from "./hub/hub-client.ts";
import { loadDeviceKey } from "./identity/device-identity.ts";
import { progressFile } from "./session/apply-progress.ts";
import { loadShareState, shareStateFile } from "./state/share-state.ts";

/** What the state dir's process lock says: running (with pid and start time when the holder answered) or not. */
export type AgentRunState = { running: boolean; pid?: number; since?: string };

type HubShare = {
  head: number;
  cursor: number;
  lagFiles?: number;
  lagBytes?: number;
  lastError: string | null;
};

/**
 * A running catch-up's figures (or, on a sending share, its first upload's), as the agent last saved them; none
 * when it is not running or is done. Receiving comes first: a peer that does both shows what it is waiting for.
 */
async function readProgress(stateDir: string, share: string, running: boolean) {
  if (!running) return null;
  for (const direction of ["receiving", "sending"] as const) {
    let saved: Record<string, unknown>;
    try {
      saved = JSON.parse(await readFile(progressFile(stateDir, share, direction), "utf8")) as Record<
        string,
        unknown
      >;
    } catch {
      continue;
    }
    const figure = (key: string) => (typeof saved[key] === "number" ? (saved[key] as number) : 0);
    return {
      direction,
      doneBytes: figure("doneBytes"),
      totalBytes: figure("totalBytes"),
      doneFiles: figure("doneFiles"),
      totalFiles: figure("totalFiles"),
      bytesPerSecond: figure("bytesPerSecond"),
      secondsLeft: typeof saved.secondsLeft === "number" ? saved.secondsLeft : null,
      at: typeof saved.at === "string" ? saved.at : null,
    };
  }
  return null;
}

export async function agentStatus(stateDir: string, agent: AgentRunState) {
  const config = await loadAgentConfig(stateDir);
  const client = new HubClient({
    hubUrl: config.hub,
    hubId: config.hubId,
    deviceId: config.deviceId,
    key: await loadDeviceKey(stateDir),
    // A look is not a sign of life: the hub keeps "last seen" as the running agent left it.
    headers: { [PRESENCE_HEADER]: "none" },
  });
  let hubShares: Map<string, HubShare> | undefined;
  let hubError: string | undefined;
  try {
    const answer = await client.config();
    hubShares = new Map(
      answer.shares.map((s) => [
        s.name,
        {
          head: s.head ?? 0,
          cursor: s.cursor ?? 0,
          lagFiles: s.lagFiles,
          lagBytes: s.lagBytes,
          lastError: s.lastError ?? null,
        },
      ]),
    );
  } catch (error) {
    hubError = (error as Error).message;
  }
  const shares = await Promise.all(
    resolveShares(config).map(async (share) => {
      let stateError: string | undefined;
      const state = await loadShareState(stateDir, share.name).catch((error: unknown) => {
        const file = shareStateFile(stateDir, share.name);
        const message = (error as Error).message;
        stateError = message.includes(file) ? message : `state file ${file}: ${message}`;
        return undefined;
      });
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
        lagFiles: hub?.lagFiles ?? null,
        lagBytes: hub?.lagBytes ?? null,
        // The agent's own record first; a share that never got going (a wrong Pi-hole password before the first
        // sync) has none yet, and the error it told the hub stands in.
        lastError: stateError ?? state?.lastError ?? hub?.lastError ?? null,
        progress: await readProgress(stateDir, share.name, agent.running),
        conflictCopies: Object.keys(state?.index ?? {})
          .filter((path) => isConflictName(path))
          .sort(),
      };
    }),
  );
  return { deviceId: config.deviceId, name: config.name, hub: config.hub, agent, hubError, shares };
}
