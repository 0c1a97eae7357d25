// Everything a hub service needs, built once by each runtime's composition root.
import type { CryptoKey, JSONWebKeySet } from "jose";
import type { Sha256Hex } from "../../shared/blocks/content-hash.ts";
import type { Database } from "../db/database.ts";
import type { BlockStore } from "../ports/block-store.ts";
import type { HealthPort } from "../ports/health.ts";
import type { Logger } from "../ports/logger.ts";
import type { Notifier } from "../ports/notifier.ts";
import type { RateLimiter } from "../ports/rate-limiter.ts";

export type HubIdentity = {
  hubId: string;
  kid: string;
  privateKey: CryptoKey;
  jwks: JSONWebKeySet;
};

export type HubLimits = {
  /** JSON bodies larger than this are refused with 413 before being read whole. */
  maxBodyBytes: number;
  /** Block upload bodies larger than this are refused with 413. */
  maxBlockBodyBytes: number;
  /** Bound parameters per SQL statement (libSQL allows thousands, D1 only 100). */
  sqlParamLimit: number;
  /** Operations and block references per instruction, so a huge first sync is split. */
  maxOpsPerInstruction: number;
  maxBlockRefsPerInstruction: number;
  /** Longest long-poll a device may ask for. */
  maxWaitSeconds: number;
};

export const DEFAULT_LIMITS: HubLimits = {
  maxBodyBytes: 8 * 1024 * 1024,
  maxBlockBodyBytes: 64 * 1024 * 1024,
  sqlParamLimit: 2000,
  maxOpsPerInstruction: 2000,
  maxBlockRefsPerInstruction: 20_000,
  maxWaitSeconds: 60,
};

/** SHA-256 of a block as lowercase hex: node:crypto on Node (injected by main.node.ts), Web Crypto elsewhere. */
export type BlockHasher = Sha256Hex;

export type HubContext = {
  db: Database;
  /**
   * Where device tokens' jtis are recorded (default `db`): the Node hub's embedded file through a connection that
   * commits without an fsync. Every device request records one, and FULL's fsync cost each ~1 ms with the event
   * loop blocked (a quarter of the hub's database time in the latency bench). A power cut can take back only the
   * last few records, which are durable at the next commit of `db`; what that exposes is a replay, within the
   * token's remaining ≤ 2 minutes, of a token used just before the cut. A process crash loses nothing.
   */
  replayDb?: Database;
  blockStore: BlockStore;
  /** Verifies uploaded blocks. */
  hashBlock: BlockHasher;
  notifier: Notifier;
  identity: HubIdentity;
  limits: HubLimits;
  enrolLimiter: RateLimiter;
  log: Logger;
  /** Whether the hub's storage is still there; a reason stops every request but /healthz with 503. */
  health: HealthPort;
  /** Where the hub keeps its state, for messages a person reads (the data dir on Node, "D1" on Workers). */
  storageLabel: string;
  /** Milliseconds since the epoch; a fixed clock in tests. */
  now: () => number;
  /** Aborts when the hub is shutting down, so long-polls end at once. */
  stopping?: AbortSignal;
  /**
   * Long-polls that wake together share one bulk round of instruction issuing (issue-device-instructions.ts). Node
   * only: on Workers a promise must settle inside the request that made it.
   */
  coalesceInstructions?: boolean;
};
