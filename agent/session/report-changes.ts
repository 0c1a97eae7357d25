// Sends a scan's changes to the hub: report (large files as deltas), upload exactly the blocks it lacks, report again.
import { BLOCK_FRAME_HEADER_BYTES, encodeBlockFrameHeader } from "../../shared/blocks/block-frames.ts";
import { diffBlockLists } from "../../shared/blocks/block-list-delta.ts";
import { blockSpans } from "../../shared/blocks/block-spans.ts";
import { FleetsyncError } from "../../shared/errors/fleetsync-error.ts";
import type { Entry, ReportedEntry } from "../../shared/protocol/entry.ts";
import type { ScanTotals } from "../../shared/protocol/messages.ts";
import { sha256 } from "../blocks/hash-blocks.ts";
import type { HubClient } from "../hub/hub-client.ts";
import type { KindScanResult, ShareKind } from "../kinds/share-kind.ts";
import type { AgentLogger } from "../log/agent-logger.ts";
import { indexEntryToEntry, type ShareState } from "../state/share-state.ts";
import { settleReported } from "./deferred-ops.ts";

const MAX_ENTRIES_PER_CHUNK = 2000;
const MAX_BLOCK_REFS_PER_CHUNK = 40_000;
const UPLOAD_BATCH_BYTES = 16 * 1024 * 1024;
/** Hubs that refused `blocksFrom` as an unknown field (older than deltas): reports to them carry whole lists. */
const hubsWithoutDeltas = new WeakSet<HubClient>();

/**
 * Why a report with block-list deltas was refused, when a delta was the reason: "base" when the hub holds another
 * base version (409: send this chunk whole); "older-hub" when the hub predates deltas and refuses the field as
 * unknown (send whole lists to it from now on); "this-delta" when a current hub found one of this report's deltas
 * malformed (send this chunk whole, keep deltas for the next). Undefined: the refusal is about something else.
 */
export function deltaRefusal(error: FleetsyncError): "base" | "older-hub" | "this-delta" | undefined {
  if (error.code === "conflict") return "base";
  if (!error.message.includes("blocksFrom")) return undefined;
  return /Unrecognized keys?: [^\n]*"blocksFrom"/.test(error.message) ? "older-hub" : "this-delta";
}

type BlockLocation = { path: string; offset: number; length: number };

/** A file changed between hashing and upload: its blocks no longer match, so it must be scanned again. */
export class FileChangedError extends Error {
  override name = "FileChangedError";
  constructor(readonly path: string) {
    super(`${path} changed after it was hashed`);
  }
}

export type ReportOutcome = {
  reported: number;
  uploadedBlocks: number;
  uploadedBytes: number;
  /** Changes the hub found concurrent with another device's and settled (see the log for each). */
  conflicts: number;
  stale: Set<string>;
  /** Set when the hub held a report as a mass delete: nothing of it (or after it) was committed. */
  held?: { reason: string; paths: string[] };
};

function chunkEntries<E extends Entry>(entries: E[]): E[][] {
  const chunks: E[][] = [];
  let current: E[] = [];
  let refs = 0;
  for (const entry of entries) {
    if (
      current.length > 0 &&
      (current.length >= MAX_ENTRIES_PER_CHUNK || refs + entry.blocks.length > MAX_BLOCK_REFS_PER_CHUNK)
    ) {
      chunks.push(current);
      current = [];
      refs = 0;
    }
    current.push(entry);
    refs += entry.blocks.length;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

export async function reportChanges(
  client: HubClient,
  share: string,
  readBlock: ShareKind["readBlock"],
  state: ShareState,
  scan: KindScanResult,
  log: AgentLogger,
  persist: () => Promise<void>,
  /** A peer names the version each change is based on (the hub settles concurrent ones). */
  options: { withBase?: boolean } = {},
): Promise<ReportOutcome> {
  const outcome: ReportOutcome = {
    reported: 0,
    uploadedBlocks: 0,
    uploadedBytes: 0,
    conflicts: 0,
    stale: new Set(),
  };
  // Refreshes (same content, new inode) need no report.
  for (const [path, entry] of scan.updates) if (!scan.changed.has(path) && entry) state.index[path] = entry;

  // Deletions first: when a large change spans several reports, what it removes is gone before what replaces
  // it arrives (a directory of thousands of entries turned into a file is then never a file with live children).
  const entries: ReportedEntry[] = [...scan.changed]
    .sort()
    .map((path) => {
      const entry = indexEntryToEntry(path, scan.updates.get(path));
      return options.withBase ? { ...entry, baseSeq: state.index[path]?.seq ?? 0 } : entry;
    })
    .sort((a, b) => Number(b.type === "deleted") - Number(a.type === "deleted"));
  // What this scan deletes and creates from each entry on: a mass delete spread over several reports is still
  // judged whole by the hub (its guard sees the rest of the scan with every report).
  const remaining = remainingTotals(entries, (path) => state.index[path] !== undefined);
  let position = 0;
  for (let chunk of chunkEntries(entries)) {
    const scanTotals = remaining[position]!;
    position += chunk.length;
    // Large files travel as deltas against the version the hub last accepted from here, until it says it holds another.
    let whole = hubsWithoutDeltas.has(client);
    for (let round = 0; ; round++) {
      let answer: Awaited<ReturnType<HubClient["report"]>>;
      try {
        answer = await client.report(share, whole ? chunk : asDeltas(chunk, state), scanTotals);
      } catch (error) {
        if (whole || !(error instanceof FleetsyncError) || !chunk.some((e) => asDelta(e, state) !== e))
          throw error;
        const refusal = deltaRefusal(error);
        if (refusal === undefined) throw error;
        if (refusal === "older-hub") hubsWithoutDeltas.add(client);
        const fields = { error: error.message };
        const message = "the hub did not take a block-list delta; sending whole block lists";
        if (refusal === "this-delta") log.warn(message, fields);
        else log.debug(message, fields);
        whole = true;
        continue;
      }
      if (answer.status === "held") {
        const rest = entries.slice(entries.indexOf(chunk[0]!));
        outcome.held = { reason: answer.reason, paths: rest.map((e) => e.path) };
        return outcome;
      }
      if (answer.status === "accepted") {
        for (const entry of chunk) {
          const next = scan.updates.get(entry.path);
          // The base stays what it was: the hub knows this device wrote what it holds now.
          const seq = state.index[entry.path]?.seq;
          if (next) state.index[entry.path] = seq === undefined ? next : { ...next, seq };
          else delete state.index[entry.path];
        }
        settleReported(
          state.deferred,
          chunk.map((entry) => entry.path),
        );
        for (const conflict of answer.conflicts ?? []) {
          log.warn(
            conflict.winner === "reported"
              ? `conflict on ${conflict.path}: this device's version keeps the path (${conflict.reason})${conflict.copy ? `; the other is kept as ${conflict.copy}` : ""}`
              : `conflict on ${conflict.path}: another device's version keeps the path (${conflict.reason})${conflict.copy ? `; this device's is kept as ${conflict.copy}` : "; this device's goes to its trash"}`,
            { path: conflict.path },
          );
        }
        outcome.conflicts += answer.conflicts?.length ?? 0;
        outcome.reported += chunk.length;
        if (answer.accepted > 0) state.lastChangeAt = new Date().toISOString();
        await persist();
        break;
      }
      if (round >= 5)
        throw new Error(
          `hub still lacks ${answer.missing.length} blocks after uploading them; giving up this round`,
        );
      try {
        const sent = await uploadBlocks(client, readBlock, chunk, answer.missing);
        outcome.uploadedBlocks += sent.blocks;
        outcome.uploadedBytes += sent.bytes;
      } catch (error) {
        if (!(error instanceof FileChangedError)) throw error;
        log.debug("file changed before upload; rescanning it", { path: error.path });
        outcome.stale.add(error.path);
        chunk = chunk.filter((e) => e.path !== error.path);
        if (chunk.length === 0) break;
      }
    }
  }
  return outcome;
}

/** The chunk with each large file's block list as a delta against the version in the index, where that is smaller. */
function asDeltas(chunk: ReportedEntry[], state: ShareState): ReportedEntry[] {
  return chunk.map((entry) => asDelta(entry, state));
}

function asDelta(entry: ReportedEntry, state: ShareState): ReportedEntry {
  if (entry.type !== "file") return entry;
  const base = state.index[entry.path];
  if (base?.type !== "file" || base.hash === "") return entry;
  const ops = diffBlockLists(base, entry);
  if (!ops) return entry;
  const { blockLengths: _lengths, ...rest } = entry;
  return { ...rest, blocks: [], blocksFrom: { base: base.hash, ops } };
}

/** For each position, the deletions and new paths from there to the end (index `entries.length` is zero). */
function remainingTotals(entries: Entry[], wasLive: (path: string) => boolean): ScanTotals[] {
  const totals: ScanTotals[] = new Array(entries.length + 1);
  totals[entries.length] = { deletes: 0, creates: 0 };
  for (let i = entries.length - 1; i >= 0; i--) {
    const entry = entries[i]!;
    const after = totals[i + 1]!;
    totals[i] = {
      deletes: after.deletes + (entry.type === "deleted" ? 1 : 0),
      creates: after.creates + (entry.type !== "deleted" && !wasLive(entry.path) ? 1 : 0),
    };
  }
  return totals;
}

/** Code-unit order: the same on every machine, whatever its locale (and no collation tables loaded). */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

async function uploadBlocks(
  client: HubClient,
  readBlock: ShareKind["readBlock"],
  chunk: Entry[],
  missing: string[],
) {
  const locations = new Map<string, BlockLocation>();
  for (const entry of chunk) {
    if (entry.type !== "file") continue;
    for (const { hash, offset, length } of blockSpans(entry)) {
      if (!locations.has(hash)) locations.set(hash, { path: entry.path, offset, length });
    }
  }
  // Frame headers and the blocks as read, sent as one body without concatenating them.
  let parts: Uint8Array[] = [];
  let frames = 0;
  let batchBytes = 0;
  let blocks = 0;
  let bytes = 0;
  const flush = async () => {
    if (frames === 0) return;
    await client.uploadBlocks(parts);
    blocks += frames;
    bytes += batchBytes - frames * BLOCK_FRAME_HEADER_BYTES;
    parts = [];
    frames = 0;
    batchBytes = 0;
  };
  const ordered = missing
    .map((hash) => ({ hash, at: locations.get(hash) }))
    .sort(
      (a, b) => compareText(a.at?.path ?? "", b.at?.path ?? "") || (a.at?.offset ?? 0) - (b.at?.offset ?? 0),
    );
  for (const { hash, at } of ordered) {
    if (!at) throw new Error(`hub asked for block ${hash}, which this report does not contain`);
    const bytes = await readBlock(at).catch(() => {
      throw new FileChangedError(at.path);
    });
    if (bytes.byteLength !== at.length || sha256(bytes) !== hash) throw new FileChangedError(at.path);
    if (batchBytes + at.length > UPLOAD_BATCH_BYTES) await flush();
    parts.push(encodeBlockFrameHeader(hash, bytes.byteLength), bytes);
    frames++;
    batchBytes += BLOCK_FRAME_HEADER_BYTES + at.length;
  }
  await flush();
  return { blocks, bytes };
}
