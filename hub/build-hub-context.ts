// The one place a HubContext is built: first-start setup plus the default adapters; each runtime overrides its own.

import { sha256Hex } from "../shared/blocks/hex.ts";
import { alwaysHealthy } from "./adapters/always-healthy.ts";
import { createInProcessNotifier } from "./adapters/in-process-notifier.ts";
import { createTableBlockStore } from "./adapters/table-block-store.ts";
import { createWindowRateLimiter } from "./adapters/window-rate-limiter.ts";
import type { Database } from "./db/database.ts";
import type { BlockStore } from "./ports/block-store.ts";
import type { HealthPort } from "./ports/health.ts";
import type { Logger } from "./ports/logger.ts";
import type { Notifier } from "./ports/notifier.ts";
import type { RateLimiter } from "./ports/rate-limiter.ts";
import { type BlockHasher, DEFAULT_LIMITS, type HubContext, type HubLimits } from "./services/hub-context.ts";
import { initializeHub } from "./services/initialize-hub.ts";

/** Enrolment attempts one client address may make per minute. */
export const ENROL_ATTEMPTS_PER_MINUTE = 20;

export type BuildHubContextOptions = {
  db: Database;
  /** See HubContext.replayDb. */
  replayDb?: Database;
  log: Logger;
  /** Where the hub keeps its state, for messages a person reads. */
  storageLabel: string;
  /** Default Date.now; tests pass a fixed clock. */
  now?: () => number;
  /** Overrides of DEFAULT_LIMITS. */
  limits?: Partial<HubLimits>;
  /** Builds the block store from the default, the database table (default: that table itself). */
  blockStore?: (table: BlockStore, limits: HubLimits) => BlockStore | Promise<BlockStore>;
  /** How uploaded blocks are verified; default Web Crypto (main.node.ts injects node:crypto, which is faster). */
  hashBlock?: BlockHasher;
  /** Default: the in-process notifier (one hub process). */
  notifier?: Notifier;
  /** Default: a per-process window of ENROL_ATTEMPTS_PER_MINUTE per minute. */
  enrolLimiter?: RateLimiter;
  /** Default: always healthy. */
  health?: HealthPort;
  stopping?: AbortSignal;
  /** Serve long-polls that wake together in one bulk round (Node; see HubContext.coalesceInstructions). */
  coalesceInstructions?: boolean;
  /** An operator-configured admin token (Workers secret); without it the first start makes one. */
  adminToken?: string;
};

export type BuiltHubContext = {
  ctx: HubContext;
  /** The admin token in clear, only when this start created it. */
  newAdminToken?: string;
};

export async function buildHubContext(options: BuildHubContextOptions): Promise<BuiltHubContext> {
  const now = options.now ?? Date.now;
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const { identity, newAdminToken } = await initializeHub(
    options.db,
    now(),
    options.adminToken === undefined ? {} : { adminToken: options.adminToken },
  );
  const table = createTableBlockStore(options.db, limits.sqlParamLimit);
  const ctx: HubContext = {
    db: options.db,
    ...(options.replayDb ? { replayDb: options.replayDb } : {}),
    blockStore: options.blockStore ? await options.blockStore(table, limits) : table,
    hashBlock: options.hashBlock ?? sha256Hex,
    notifier: options.notifier ?? createInProcessNotifier(),
    identity,
    limits,
    enrolLimiter: options.enrolLimiter ?? createWindowRateLimiter(ENROL_ATTEMPTS_PER_MINUTE, 60_000),
    log: options.log,
    health: options.health ?? alwaysHealthy,
    storageLabel: options.storageLabel,
    now,
    ...(options.stopping ? { stopping: options.stopping } : {}),
    ...(options.coalesceInstructions ? { coalesceInstructions: true } : {}),
  };
  return newAdminToken === undefined ? { ctx } : { ctx, newAdminToken };
}
