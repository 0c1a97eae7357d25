// One session per share: the one owner of the share's state (index, cursor, failed operations), its lock, its hub status.
import type { ResolvedShare } from "../config/agent-config.ts";
import type { HubClient } from "../hub/hub-client.ts";
import type { ShareKind } from "../kinds/share-kind.ts";
import type { AgentLogger } from "../log/agent-logger.ts";
import { type OpenedShareState, openShareState, saveShareState } from "../state/share-state.ts";
import { createReceivingSide, type ReceivingSide } from "./receive-instructions.ts";
import { type RolePolicy, rolePolicy } from "./role-policy.ts";
import { runSendingSide } from "./send-changes.ts";
import type { SessionCore } from "./session-core.ts";

export type ShareSessionDeps = {
  client: HubClient;
  stateDir: string;
  log: AgentLogger;
  signal: AbortSignal;
};

export type ShareSession = {
  share: ResolvedShare;
  policy: RolePolicy;
  /** Watch → debounce → scan → report, until the signal aborts (roles that send: source, peer). */
  runSending(): Promise<void>;
  /** Driven by the device's instruction loop (roles that receive: replica, peer). */
  receiving: ReceivingSide;
};

export function createShareSession(
  share: ResolvedShare,
  kind: ShareKind,
  deps: ShareSessionDeps,
): ShareSession {
  const { client, stateDir, log, signal } = deps;
  let opening: Promise<OpenedShareState> | undefined;
  let tail: Promise<unknown> = Promise.resolve();
  const core: SessionCore = {
    share,
    kind,
    policy: rolePolicy(share.role),
    client,
    stateDir,
    log,
    signal,
    open() {
      opening ??= openShareState(stateDir, share.name, {
        // A share that only sends keeps its index packed: memory follows what changed, not the tree's size.
        packed: !core.policy.receives,
        now: () => new Date(),
        onDamaged: (error, movedTo) =>
          log.error(`${error.message}; moved it to ${movedTo} and rebuilding the share's state`),
      }).catch((error) => {
        opening = undefined;
        throw error;
      });
      return opening;
    },
    async persist() {
      const opened = await core.open();
      await saveShareState(stateDir, share.name, opened.state);
    },
    exclusive(task) {
      const run = tail.then(task, task);
      tail = run.catch(() => {});
      return run;
    },
    tellHub: async (lastError) => {
      await client
        .reportStatus(share.name, lastError)
        .catch((error: Error) =>
          log.debug("could not tell the hub this share's status", { error: error.message }),
        );
    },
  };
  return {
    share,
    policy: core.policy,
    runSending: () => runSendingSide(core),
    receiving: createReceivingSide(core),
  };
}
