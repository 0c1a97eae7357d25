// A source's change report: answer with the blocks the hub lacks, or commit the entries in one batch.
import { and, eq, inArray, sql } from "drizzle-orm";
import { blockLayoutProblem } from "../../shared/blocks/block-spans.ts";
import { contentHash } from "../../shared/blocks/content-hash.ts";
import { expandBlockList } from "../../shared/blocks/expand-block-list.ts";
import { FleetsyncError } from "../../shared/errors/fleetsync-error.ts";
import { type Entry, isSameEntry, type ReportedEntry } from "../../shared/protocol/entry.ts";
import type { ConflictOutcome, ReportResponse, ScanTotals } from "../../shared/protocol/messages.ts";
import { chunkForParams } from "../db/database.ts";
import { devices, entries, members, shares, syncOps, syncRuns } from "../db/schema.ts";
import { shareBlockStatements } from "./block-access.ts";
import { checkTree } from "./check-tree.ts";
import { blocksDeltaColumn, entryToRow, rowToEntry } from "./entry-rows.ts";
import type { BlockHasher, HubContext } from "./hub-context.ts";
import { guardMassDelete } from "./mass-delete-guard.ts";
import { resolveConcurrent } from "./resolve-concurrent.ts";
import { requireMembership } from "./shares.ts";

const ENTRY_COLUMNS = 17;
const OP_COLUMNS = 8;

/** Commits that lost the race to another commit of the same share are read again and retried this often. */
const MAX_COMMIT_ATTEMPTS = 8;

export async function commitReport(
  ctx: HubContext,
  deviceId: string,
  shareName: string,
  reported: ReportedEntry[],
  /** The totals of the whole scan this report is part of (see ScanTotalsSchema), when the agent sends them. */
  scan?: ScanTotals,
): Promise<ReportResponse> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await commitOnce(ctx, deviceId, shareName, reported, scan);
    } catch (error) {
      if (!isStaleRead(error)) throw error;
      if (attempt >= MAX_COMMIT_ATTEMPTS) {
        throw new FleetsyncError(
          "unavailable",
          `share "${shareName}" changed under this report ${attempt} times in a row (other devices are committing); report again`,
          { retryable: true },
        );
      }
      ctx.log.info("report raced another commit of its share; reading again", { share: shareName, attempt });
    }
  }
}

/**
 * The guard a commit's batch runs right after its first write (the write lock is held from there): it fails the
 * whole batch when the share's head moved since the commit read the versions it decided on, so a change another
 * request or hub process committed in between is never overwritten unseen (two edits of one version would
 * otherwise both look based on the current one). SQLite and D1 both fail `json()` on malformed text.
 */
const STALE_MARK = "fleetsync: stale report";
function staleGuard(ctx: HubContext, shareName: string, readHead: number) {
  // A no-op update (SQLite evaluates a CASE branch only when it is taken); a raw statement would not batch on D1.
  return ctx.db
    .update(shares)
    .set({
      headSeq: sql`case when ${shares.headSeq} = ${readHead} then ${shares.headSeq} else json(${STALE_MARK}) end`,
    })
    .where(eq(shares.name, shareName));
}
function isStaleRead(error: unknown): boolean {
  for (let e = error as { message?: unknown; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (typeof e.message === "string" && /malformed JSON/i.test(e.message)) return true;
  }
  return false;
}

async function commitOnce(
  ctx: HubContext,
  deviceId: string,
  shareName: string,
  reported: ReportedEntry[],
  scan: ScanTotals | undefined,
): Promise<ReportResponse> {
  const { member } = await requireMembership(ctx, deviceId, shareName);
  if (member.role === "replica") {
    throw new FleetsyncError(
      "forbidden",
      `device ${deviceId} is a replica of "${shareName}" and may not report changes`,
    );
  }
  const latest = new Map<string, ReportedEntry>();
  for (const entry of reported) latest.set(entry.path, entry);

  // The head first: every version read after it is at least this new, so the guard's check covers them all.
  const [share] = await ctx.db.select().from(shares).where(eq(shares.name, shareName));
  if (!share) throw new FleetsyncError("not_found", `share "${shareName}" does not exist`);
  const current = new Map<string, Entry>();
  /** Who last changed each current path, and at which sequence (what a peer's `baseSeq` is compared with). */
  const versions = new Map<string, { seq: number; deviceId: string }>();
  for (const chunk of chunkForParams([...latest.keys()], 1, ctx.limits.sqlParamLimit - 1)) {
    const rows = await ctx.db
      .select()
      .from(entries)
      .where(and(eq(entries.share, shareName), inArray(entries.path, chunk)));
    for (const row of rows) {
      current.set(row.path, rowToEntry(row));
      versions.set(row.path, { seq: row.seq, deviceId: row.deviceId });
    }
  }
  // Block lists sent as deltas are expanded against the current versions first: all that follows sees whole entries.
  for (const [path, entry] of latest) {
    const whole = await expandReportedBlocks(entry, current.get(path));
    await validateReported(whole, ctx.hashBlock);
    latest.set(path, whole);
  }
  const settled = await settleConcurrent(ctx, {
    deviceId,
    policy: share.conflicts,
    reported: [...latest.values()],
    current,
    versions,
    isPeer: member.role === "peer",
  });
  const changed = settled.commit
    .filter(({ entry, resend }) => {
      const existing = current.get(entry.path);
      if (resend) return existing !== undefined;
      if (existing) return !isSameEntry(existing, entry);
      return entry.type !== "deleted";
    })
    .map(({ entry }) => entry);
  const authorOf = new Map(settled.commit.map(({ entry, deviceId: author }) => [entry.path, author]));
  await checkTree(ctx, {
    share: shareName,
    changed,
    reported: new Map(settled.commit.map(({ entry }) => [entry.path, entry])),
    committed: current,
  });
  const conflicts = settled.conflicts.length > 0 ? { conflicts: settled.conflicts } : {};
  if (changed.length === 0) return { status: "accepted", accepted: 0, head: share.headSeq, ...conflicts };
  const deletes = changed.filter((e) => e.type === "deleted").length;
  // New live paths (not live before): a rename or move creates as many as it deletes.
  const creates = changed.filter(
    (e) => e.type !== "deleted" && (current.get(e.path)?.type ?? "deleted") === "deleted",
  ).length;
  // A scan's deletions may span several reports: judge what the rest of the scan deletes, not one slice.
  const guard = await guardMassDelete(ctx, {
    share,
    deviceId,
    deletes: Math.max(deletes, scan?.deletes ?? 0),
    creates: scan && scan.deletes > deletes ? scan.creates : creates,
  });
  if (guard.held) return guard.held;

  const needed = [...new Set(changed.flatMap((e) => (e.type === "file" ? e.blocks : [])))];
  const stored = await ctx.blockStore.has(needed);
  const missing = needed.filter((hash) => !stored.has(hash));
  if (missing.length > 0) return { status: "missing", missing };

  const nowMs = ctx.now();
  const headSql = sql`(select ${shares.headSeq} from ${shares} where ${shares.name} = ${shareName})`;
  const rows = changed.map((entry, i) => ({
    ...entryToRow(entry, shareName, authorOf.get(entry.path) ?? deviceId, nowMs),
    // Replicas that hold the version this one replaces get the edit, not the whole list (plan-instruction.ts).
    blocksDelta: blocksDeltaColumn(entry, current.get(entry.path), versions.get(entry.path)?.seq),
    seq: sql`${headSql} + ${i + 1}`,
  }));
  const entryStatements = chunkForParams(rows, ENTRY_COLUMNS, ctx.limits.sqlParamLimit).map((chunk) =>
    ctx.db
      .insert(entries)
      .values(chunk)
      .onConflictDoUpdate({
        target: [entries.share, entries.path],
        set: {
          seq: sql`excluded.seq`,
          type: sql`excluded.type`,
          size: sql`excluded.size`,
          mode: sql`excluded.mode`,
          mtimeMs: sql`excluded.mtime_ms`,
          blockSize: sql`excluded.block_size`,
          blocks: sql`excluded.blocks`,
          blockLengths: sql`excluded.block_lengths`,
          target: sql`excluded.target`,
          hash: sql`excluded.hash`,
          blocksDelta: sql`excluded.blocks_delta`,
          deviceId: sql`excluded.device_id`,
          updatedAt: sql`excluded.updated_at`,
        },
      }),
  );
  const bytes = changed.reduce((sum, e) => sum + (e.type === "file" ? e.size : 0), 0);
  const runId = sql`(select max(${syncRuns.id}) from ${syncRuns})`;
  const conflictRows = settled.conflicts.map((conflict) => ({
    runId,
    seq: headSql,
    path: conflict.path,
    action: "conflict",
    bytes: 0,
    ok: true,
    error: `${conflict.winner === "reported" ? "this report's version" : "the hub's version"} kept (${conflict.reason})${conflict.copy ? `; the other is ${conflict.copy}` : ""}`,
  }));
  const opRows = changed.map((entry, i) => ({
    runId,
    seq: sql`${headSql} - ${changed.length - i - 1}`,
    path: entry.path,
    action: entry.type === "deleted" ? "delete" : `report-${entry.type}`,
    bytes: entry.type === "file" ? entry.size : 0,
    ok: true,
  }));
  const [first] = await ctx.db.batch([
    ctx.db
      .insert(syncRuns)
      .values({
        share: shareName,
        deviceId,
        kind: "report",
        fromSeq: sql`${headSql} + 1`,
        toSeq: sql`${headSql} + ${changed.length}`,
        files: changed.length,
        bytes,
        result: "ok",
        at: nowMs,
      })
      .returning({ fromSeq: syncRuns.fromSeq }),
    staleGuard(ctx, shareName, share.headSeq),
    ...entryStatements,
    ctx.db
      .update(shares)
      .set({ headSeq: sql`${shares.headSeq} + ${changed.length}` })
      .where(eq(shares.name, shareName)),
    ...chunkForParams(opRows, OP_COLUMNS, ctx.limits.sqlParamLimit).map((chunk) =>
      ctx.db.insert(syncOps).values(chunk),
    ),
    ...chunkForParams(conflictRows, OP_COLUMNS + 1, ctx.limits.sqlParamLimit).map((chunk) =>
      ctx.db.insert(syncOps).values(chunk),
    ),
    ...shareBlockStatements(ctx, shareName, needed, nowMs),
    ...guard.statements,
    ctx.db
      .update(members)
      .set({ lastReportAt: nowMs, lastError: null, lastErrorAt: null })
      .where(and(eq(members.share, shareName), eq(members.deviceId, deviceId))),
  ]);
  const head = (first[0]?.fromSeq ?? 1) - 1 + changed.length;
  await ctx.notifier.notify(shareName);
  ctx.log.info("report committed", { share: shareName, device: deviceId, entries: changed.length, head });
  if (settled.conflicts.length > 0) {
    ctx.log.info("concurrent changes settled", {
      share: shareName,
      device: deviceId,
      conflicts: settled.conflicts,
    });
  }
  return { status: "accepted", accepted: changed.length, head, ...conflicts };
}

/**
 * A peer's entry whose `baseSeq` is not the current version of its path — and whose current version another
 * device wrote — was made without seeing that version: it is settled by resolveConcurrent. Everything else (a
 * source's report, a change on top of what the hub has) commits as reported. Copies come before their path.
 */
async function settleConcurrent(
  ctx: HubContext,
  input: {
    deviceId: string;
    policy: "keep-both" | "newest-wins";
    reported: ReportedEntry[];
    current: Map<string, Entry>;
    versions: Map<string, { seq: number; deviceId: string }>;
    isPeer: boolean;
  },
): Promise<{ commit: { entry: Entry; deviceId: string; resend?: boolean }[]; conflicts: ConflictOutcome[] }> {
  const strip = ({ baseSeq: _, ...entry }: ReportedEntry): Entry => entry;
  const isConcurrent = (entry: ReportedEntry) => {
    const version = input.versions.get(entry.path);
    return (
      input.isPeer &&
      entry.baseSeq !== undefined &&
      version !== undefined &&
      version.seq !== entry.baseSeq &&
      version.deviceId !== input.deviceId
    );
  };
  const concurrent = input.reported.filter(isConcurrent);
  if (concurrent.length === 0) {
    return {
      commit: input.reported.map((e) => ({ entry: strip(e), deviceId: input.deviceId })),
      conflicts: [],
    };
  }
  const ids = [...new Set([input.deviceId, ...concurrent.map((e) => input.versions.get(e.path)!.deviceId)])];
  const names = new Map<string, string>();
  for (const chunk of chunkForParams(ids, 1, ctx.limits.sqlParamLimit - 1)) {
    const rows = await ctx.db
      .select({ id: devices.id, name: devices.name })
      .from(devices)
      .where(inArray(devices.id, chunk));
    for (const row of rows) names.set(row.id, row.name);
  }
  const taken = new Set([...input.current.values()].filter((e) => e.type !== "deleted").map((e) => e.path));
  const commit: { entry: Entry; deviceId: string; resend?: boolean }[] = [];
  const conflicts: ConflictOutcome[] = [];
  const nowMs = ctx.now();
  for (const entry of input.reported) {
    if (!isConcurrent(entry)) {
      commit.push({ entry: strip(entry), deviceId: input.deviceId });
      continue;
    }
    const version = input.versions.get(entry.path)!;
    const resolution = resolveConcurrent({
      reported: {
        entry: strip(entry),
        deviceId: input.deviceId,
        deviceName: names.get(input.deviceId) ?? input.deviceId,
      },
      current: {
        entry: input.current.get(entry.path)!,
        deviceId: version.deviceId,
        deviceName: names.get(version.deviceId) ?? version.deviceId,
      },
      policy: input.policy,
      nowMs,
      isTaken: (path) => taken.has(path),
    });
    for (const item of resolution.commit) {
      taken.add(item.entry.path);
      commit.push(item);
    }
    if (resolution.outcome) conflicts.push({ path: entry.path, ...resolution.outcome });
  }
  return { commit, conflicts };
}

/** The entry with its whole block list: `blocksFrom` must name the hub's current version of the path as its base. */
async function expandReportedBlocks(
  entry: ReportedEntry,
  current: Entry | undefined,
): Promise<ReportedEntry> {
  if (entry.blocksFrom === undefined) return entry;
  if (entry.type !== "file") {
    throw new FleetsyncError(
      "invalid",
      `entry "${entry.path}": only a file has a block list; send a ${entry.type} without blocksFrom`,
    );
  }
  const base = current?.type === "file" ? current : undefined;
  const expanded = await expandBlockList(entry, base);
  if (expanded.ok) return expanded.entry;
  // A base the hub does not hold is the agent's cue to send the whole list (its index is behind the hub's).
  throw new FleetsyncError(expanded.wrongBase ? "conflict" : "invalid", expanded.reason);
}

/** Throws for an entry no replica could apply: a file whose blocks do not make up its size or hash, a bare symlink. */
async function validateReported(entry: ReportedEntry, hash: BlockHasher): Promise<void> {
  const problem = entry.type === "file" ? blockLayoutProblem(entry) : undefined;
  if (problem) {
    throw new FleetsyncError(
      "invalid",
      `entry "${entry.path}": ${problem}; report the blocks the file's content is cut into`,
    );
  }
  if (entry.type === "file") {
    const expected = await contentHash(entry.size, entry.blockSize, entry.blocks, entry.blockLengths, hash);
    if (entry.hash !== expected) {
      throw new FleetsyncError(
        "invalid",
        `entry "${entry.path}": hash ${JSON.stringify(entry.hash.slice(0, 64))} is not the content hash of its size and blocks (${expected}); no replica could verify it`,
      );
    }
  }
  if (entry.type === "symlink" && !entry.target) {
    throw new FleetsyncError(
      "invalid",
      `entry "${entry.path}": a symlink needs a non-empty target; report the link with its target`,
    );
  }
}
