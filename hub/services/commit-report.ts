// A source's change report: answer with the blocks the hub lacks, or commit the entries in one batch.
import { and, eq, inArray, sql } from "drizzle-orm";
import { contentHash } from "../../shared/blocks/content-hash.ts";
import { FleetsyncError } from "../../shared/errors/fleetsync-error.ts";
import { type Entry, isSameEntry } from "../../shared/protocol/entry.ts";
import type { ReportResponse, ScanTotals } from "../../shared/protocol/messages.ts";
import { chunkForParams } from "../db/database.ts";
import { entries, members, shares, syncOps, syncRuns } from "../db/schema.ts";
import { shareBlockStatements } from "./block-access.ts";
import { checkTree } from "./check-tree.ts";
import { entryToRow, rowToEntry } from "./entry-rows.ts";
import type { HubContext } from "./hub-context.ts";
import { guardMassDelete } from "./mass-delete-guard.ts";
import { requireMembership } from "./shares.ts";

const ENTRY_COLUMNS = 15;
const OP_COLUMNS = 8;

export async function commitReport(
  ctx: HubContext,
  deviceId: string,
  shareName: string,
  reported: Entry[],
  /** The totals of the whole scan this report is part of (see ScanTotalsSchema), when the agent sends them. */
  scan?: ScanTotals,
): Promise<ReportResponse> {
  const { member } = await requireMembership(ctx, deviceId, shareName);
  if (member.role === "replica") {
    throw new FleetsyncError(
      "forbidden",
      `device ${deviceId} is a replica of "${shareName}" and may not report changes`,
    );
  }
  const latest = new Map<string, Entry>();
  for (const entry of reported) {
    if (entry.type === "file" && entry.blocks.length !== Math.ceil(entry.size / entry.blockSize)) {
      throw new FleetsyncError(
        "invalid",
        `entry "${entry.path}": ${entry.blocks.length} blocks do not cover ${entry.size} bytes`,
      );
    }
    if (entry.type === "file") {
      const expected = await contentHash(entry.size, entry.blockSize, entry.blocks);
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
    latest.set(entry.path, entry);
  }

  const current = new Map<string, Entry>();
  for (const chunk of chunkForParams([...latest.keys()], 1, ctx.limits.sqlParamLimit - 1)) {
    const rows = await ctx.db
      .select()
      .from(entries)
      .where(and(eq(entries.share, shareName), inArray(entries.path, chunk)));
    for (const row of rows) current.set(row.path, rowToEntry(row));
  }
  const changed = [...latest.values()].filter((entry) => {
    const existing = current.get(entry.path);
    if (existing) return !isSameEntry(existing, entry);
    return entry.type !== "deleted";
  });
  await checkTree(ctx, { share: shareName, changed, reported: latest, committed: current });
  const [share] = await ctx.db.select().from(shares).where(eq(shares.name, shareName));
  if (!share) throw new FleetsyncError("not_found", `share "${shareName}" does not exist`);
  if (changed.length === 0) return { status: "accepted", accepted: 0, head: share.headSeq };
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
    ...entryToRow(entry, shareName, deviceId, nowMs),
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
          target: sql`excluded.target`,
          hash: sql`excluded.hash`,
          deviceId: sql`excluded.device_id`,
          updatedAt: sql`excluded.updated_at`,
        },
      }),
  );
  const bytes = changed.reduce((sum, e) => sum + (e.type === "file" ? e.size : 0), 0);
  const runId = sql`(select max(${syncRuns.id}) from ${syncRuns})`;
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
    ...entryStatements,
    ctx.db
      .update(shares)
      .set({ headSeq: sql`${shares.headSeq} + ${changed.length}` })
      .where(eq(shares.name, shareName)),
    ...chunkForParams(opRows, OP_COLUMNS, ctx.limits.sqlParamLimit).map((chunk) =>
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
  return { status: "accepted", accepted: changed.length, head };
}
