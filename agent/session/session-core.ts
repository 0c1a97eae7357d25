// What the sending and the receiving side of one share session share: state, lock, hub status, the kind.
import type { ResolvedShare } from "../config/agent-config.ts";
import type { HubClient } from "../hub/hub-client.ts";
import type { ShareKind } from "../kinds/share-kind.ts";
import type { AgentLogger } from "../log/agent-logger.ts";
import type { OpenedShareState } from "../state/share-state.ts";
import type { RolePolicy } from "./role-policy.ts";

export type SessionCore = {
  share: ResolvedShare;
  kind: ShareKind;
  policy: RolePolicy;
  client: HubClient;
  stateDir: string;
  log: AgentLogger;
  signal: AbortSignal;
  /** Loads the state once (a damaged file is moved aside and rebuilt); a failure is retried by the next call. */
  open(): Promise<OpenedShareState>;
  persist(): Promise<void>;
  /** Runs `task` alone: a scan-and-report and an apply of the same share never interleave. */
  exclusive<T>(task: () => Promise<T>): Promise<T>;
  /** Tells the hub the share's problem (null: none); a hub that cannot be reached hears it next time. */
  tellHub(lastError: string | null): Promise<void>;
};
