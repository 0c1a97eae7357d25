// The port every share kind implements (folder, pihole): how a share's data is checked, scanned, read, applied, watched.
import type { BlockFrame } from "../../shared/blocks/block-frames.ts";
import type { SequencedEntry } from "../../shared/protocol/entry.ts";
import type { OperationResult } from "../../shared/protocol/messages.ts";
import type { DeviceShare } from "../../shared/protocol/shares.ts";
import type { AgentLogger } from "../log/agent-logger.ts";
import type { IndexEntry } from "../state/share-state.ts";

/** What the session remembers per share-relative path: the last state it reported or applied. */
export type ShareIndex = Record<string, IndexEntry>;

export type KindScanResult = {
  /** New index state per path (undefined: gone). Includes refreshes that need no report. */
  updates: Map<string, IndexEntry | undefined>;
  /** Paths whose change other machines must hear about. */
  changed: Set<string>;
  /** Paths that changed while being read: scan them again later. */
  unstable: Set<string>;
  hashedBytes: number;
};

export type ScanRequest = {
  /** Share-relative paths that may have changed; "" means everything. */
  dirty: ReadonlySet<string>;
  index: Readonly<ShareIndex>;
  /** Called with the changes found so far, so a large scan is reported while the rest is still read. */
  flush?: (part: KindScanResult) => Promise<void>;
  /** Each block the scan hashes, as it hashes it (a view valid until the returned promise settles), to upload it. */
  onBlock?: (hash: string, bytes: Uint8Array) => void | Promise<void>;
};

/**
 * Streams block contents from the hub, at most MAX_HASHES_PER_FETCH hashes per call. Blocks are NOT verified here:
 * the kind checks each block's SHA-256 before using it. A hash the hub lacks is simply not in the stream.
 */
export type FetchBlocks = (
  hashes: string[],
  signal?: AbortSignal,
  options?: FetchBlocksOptions,
) => AsyncIterable<BlockFrame>;

export type FetchBlocksOptions = {
  /**
   * Each frame's bytes are valid only until the next frame is asked for (one buffer reused, no allocation per
   * block): for a caller that writes each block before it asks for the next.
   */
  transient?: boolean;
};

export type ApplyRequest = {
  /** The operations to bring about, in sequence order. */
  ops: SequencedEntry[];
  /** The session's index: the kind records here what it applied (and forgets what it removed). */
  index: ShareIndex;
  fetchBlocks: FetchBlocks;
  /** Called as each operation is done (applied, unchanged or failed), with the bytes it wrote. */
  onDone?: (op: SequencedEntry, bytes: number) => void;
  deletes: "propagate" | "keep";
  /**
   * What to do where the local data changed since the session last saw it: `overwrite` (a replica: the hub's
   * version wins, the local copy is kept in trash) or `report` (a peer: leave it, the session reports it first).
   */
  localChange: "overwrite" | "report";
  dryRun: boolean;
  signal: AbortSignal;
};

export type PrepareResult = { ok: true } | { ok: false; reason: string };

export type KindWatcher = {
  /** Settles once the watcher sees everything it watches. */
  ready: Promise<void>;
  close(): Promise<void>;
};

export type ShareKind = {
  readonly kind: string;
  /**
   * Checks the share can run now (a folder's root and marker, a Pi-hole's API and password). Not ok: the session
   * says why, tells the hub, and tries again later; nothing is scanned or applied meanwhile.
   */
  prepare(context: { isFirstRun: boolean; role: "source" | "replica" | "peer" }): Promise<PrepareResult>;
  scan(request: ScanRequest): Promise<KindScanResult>;
  /** What a full scan will cover (entries and file bytes), counted cheaply: the totals of a first upload's progress. */
  measure?(): Promise<{ files: number; bytes: number }>;
  /** Bytes `offset`..`offset + length` of the current content of `path` (for uploading a block the hub lacks). */
  readBlock(request: { path: string; offset: number; length: number }): Promise<Uint8Array>;
  /** One result per operation; a failed operation has `ok: false` and an error saying what and what to do. */
  apply(request: ApplyRequest): Promise<OperationResult[]>;
  /** Calls `onDirty` with a share-relative path ("" for everything) whenever local data may have changed. */
  watch(onDirty: (path: string) => void): KindWatcher;
  /** Periodic housekeeping (a folder's trash past its retention); called after prepare and about hourly. */
  maintain?(): Promise<void>;
  close(): Promise<void>;
};

export type KindDeps = {
  shareName: string;
  stateDir: string;
  log: AgentLogger;
  /** The share as the hub describes it now (policies, a Pi-hole share's items); rejects when the hub is away. */
  describeShare?: () => Promise<DeviceShare | undefined>;
};
