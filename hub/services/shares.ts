// Shares and their members: create, list, show (with each member's cursor and lag), and a device's view.
import { and, count, desc, eq, gt, like, ne, sql } from "drizzle-orm";
import { FleetsyncError } from "../../shared/errors/fleetsync-error.ts";
import { type PiholeItems, PiholeItemsSchema } from "../../shared/protocol/pihole-items.ts";
import type { DeviceShare, SharePolicy } from "../../shared/protocol/shares.ts";
import {
  devices,
  entries,
  instructions,
  members,
  shareBlocks,
  shares,
  syncOps,
  syncRuns,
} from "../db/schema.ts";
import { auditStatement } from "./audit.ts";
import type { HubContext } from "./hub-context.ts";

export type CreateShareInput = SharePolicy & { name: string; approval?: "none" | "required" };

/** A Pi-hole share syncs the default items unless it was created with others; a folder share has none. */
export function piholeItemsOf(row: { kind: string; piholeItems: string | null }): PiholeItems | undefined {
  if (row.kind !== "pihole") return undefined;
  const stored = row.piholeItems === null ? {} : (JSON.parse(row.piholeItems) as unknown);
  return PiholeItemsSchema.parse(stored);
}

export async function createShare(ctx: HubContext, input: CreateShareInput) {
  if (input.pihole && input.kind !== "pihole")
    throw new FleetsyncError(
      "invalid",
      `share "${input.name}" is a ${input.kind} share: Pi-hole items and config keys belong to --kind pihole`,
    );
  const { pihole, ...given } = input;
  const columns = { ...given, storage: given.storage ?? "full" };
  const items = input.kind === "pihole" ? PiholeItemsSchema.parse(pihole ?? {}) : undefined;
  const inserted = await ctx.db
    .insert(shares)
    .values({ ...columns, piholeItems: items ? JSON.stringify(items) : null, createdAt: ctx.now() })
    .onConflictDoNothing()
    .returning({ name: shares.name });
  if (inserted.length === 0) throw new FleetsyncError("conflict", `share "${input.name}" already exists`);
  await auditStatement(ctx, "admin", "share.create", input.name, { ...columns, pihole: items });
  return { ...columns, ...(items ? { pihole: items } : {}), head: 0 };
}

/** Changes what a Pi-hole share syncs; members read it at their next scan or apply. */
export async function setPiholeItems(ctx: HubContext, name: string, change: Partial<PiholeItems>) {
  const [share] = await ctx.db.select().from(shares).where(eq(shares.name, name));
  if (!share)
    throw new FleetsyncError("not_found", `share "${name}" does not exist; see fleetsync share list`);
  const current = piholeItemsOf(share);
  if (!current)
    throw new FleetsyncError(
      "invalid",
      `share "${name}" is a ${share.kind} share: Pi-hole items and config keys belong to --kind pihole`,
    );
  const items = PiholeItemsSchema.parse({
    sync: change.sync ?? current.sync,
    config: change.config ?? current.config,
  });
  await ctx.db.batch([
    ctx.db
      .update(shares)
      .set({ piholeItems: JSON.stringify(items) })
      .where(eq(shares.name, name)),
    auditStatement(ctx, "admin", "share.set", name, { pihole: items }),
  ]);
  await ctx.notifier.notify(name);
  return { name, pihole: items };
}

/** Removes a share from the hub: entries, members, instructions, block index. Blocks are left to GC. */
export async function deleteShare(ctx: HubContext, name: string) {
  const [share] = await ctx.db.select().from(shares).where(eq(shares.name, name));
  if (!share)
    throw new FleetsyncError("not_found", `share "${name}" does not exist; see fleetsync share list`);
  const [entryCount] = await ctx.db.select({ n: count() }).from(entries).where(eq(entries.share, name));
  const [memberCount] = await ctx.db.select({ n: count() }).from(members).where(eq(members.share, name));
  await ctx.db.batch([
    ctx.db.delete(entries).where(eq(entries.share, name)),
    ctx.db.delete(members).where(eq(members.share, name)),
    ctx.db.delete(instructions).where(eq(instructions.share, name)),
    ctx.db.delete(shareBlocks).where(eq(shareBlocks.share, name)),
    ctx.db.delete(shares).where(eq(shares.name, name)),
    auditStatement(ctx, "admin", "share.delete", name),
  ]);
  await ctx.notifier.notify(name);
  return { name, deleted: true, entries: entryCount?.n ?? 0, members: memberCount?.n ?? 0 };
}

export async function listShares(ctx: HubContext) {
  const rows = await ctx.db.select().from(shares).orderBy(shares.name);
  const memberCounts = await ctx.db
    .select({ share: members.share, n: count() })
    .from(members)
    .groupBy(members.share);
  const counts = new Map(memberCounts.map((r) => [r.share, r.n]));
  return rows.map((row) => ({
    name: row.name,
    kind: row.kind,
    deletes: row.deletes,
    conflicts: row.conflicts,
    storage: row.storage,
    ...piholeField(row),
    head: row.headSeq,
    members: counts.get(row.name) ?? 0,
  }));
}

export async function showShare(ctx: HubContext, name: string) {
  const [share] = await ctx.db.select().from(shares).where(eq(shares.name, name));
  if (!share)
    throw new FleetsyncError("not_found", `share "${name}" does not exist; see fleetsync share list`);
  const rows = await ctx.db
    .select({ member: members, device: devices })
    .from(members)
    .innerJoin(devices, eq(devices.id, members.deviceId))
    .where(eq(members.share, name))
    .orderBy(devices.name);
  const [files] = await ctx.db.select({ n: count() }).from(entries).where(eq(entries.share, name));
  // Conflict copies two-way shares keep of the losing side: there until a person looks and removes them.
  const isCopy = and(
    eq(entries.share, name),
    ne(entries.type, "deleted"),
    like(entries.path, "%.sync-conflict-%"),
  );
  const [copyCount] = await ctx.db.select({ n: count() }).from(entries).where(isCopy);
  const copies = await ctx.db
    .select({ path: entries.path })
    .from(entries)
    .where(isCopy)
    .orderBy(entries.path)
    .limit(CONFLICT_PATHS_SHOWN);
  const recentRuns = await ctx.db
    .select()
    .from(syncRuns)
    .where(eq(syncRuns.share, name))
    .orderBy(desc(syncRuns.id))
    .limit(RECENT_RUNS);
  const shown = [];
  for (const { member, device } of rows) {
    const cursor = member.role === "source" ? share.headSeq : member.cursor;
    const lag = await lagOf(ctx, name, cursor);
    // A Pi-hole replica's last gravity run, as its agent recorded it in the op log.
    const [gravity] =
      share.kind === "pihole" && member.role !== "source"
        ? await ctx.db
            .select({ at: sql<number>`max(${syncRuns.at})` })
            .from(syncOps)
            .innerJoin(syncRuns, eq(syncRuns.id, syncOps.runId))
            .where(
              and(eq(syncRuns.share, name), eq(syncRuns.deviceId, device.id), eq(syncOps.action, "gravity")),
            )
        : [];
    shown.push({
      deviceId: device.id,
      name: device.name,
      role: member.role,
      revoked: device.revokedAt !== null,
      lastSeenAt: isoOrNull(device.lastSeenAt),
      cursor,
      lag: share.headSeq - cursor,
      lagFiles: lag.files,
      lagBytes: lag.bytes,
      dryRun: member.dryRun,
      lastError: member.lastError,
      lastErrorAt: member.lastError === null ? null : isoOrNull(member.lastErrorAt),
      ...(share.kind === "pihole" ? { lastGravityAt: isoOrNull(gravity?.at ?? null) } : {}),
    });
  }
  return {
    name: share.name,
    kind: share.kind,
    deletes: share.deletes,
    conflicts: share.conflicts,
    storage: share.storage,
    ...piholeField(share),
    head: share.headSeq,
    entries: files?.n ?? 0,
    conflictCopies: { count: copyCount?.n ?? 0, paths: copies.map((c) => c.path) },
    heldDelete:
      share.heldAt === null
        ? null
        : {
            deviceId: share.heldDeleteDevice,
            deletes: share.heldDeletes,
            live: share.heldLive,
            since: new Date(share.heldAt).toISOString(),
            confirm: `fleetsync share confirm-delete ${share.name}`,
          },
    deleteConfirmedUntil:
      share.deleteConfirmedUntil !== null && share.deleteConfirmedUntil > ctx.now()
        ? new Date(share.deleteConfirmedUntil).toISOString()
        : null,
    members: shown,
    /** Newest first. */
    recentRuns: recentRuns.map((run) => ({ ...run, at: new Date(run.at).toISOString() })),
  };
}

const RECENT_RUNS = 20;
const CONFLICT_PATHS_SHOWN = 50;

const piholeField = (row: { kind: string; piholeItems: string | null }) => {
  const items = piholeItemsOf(row);
  return items ? { pihole: items } : {};
};

const isoOrNull = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** What a member at `cursor` still lacks: changed entries after it, and the bytes of those that are files. */
async function lagOf(ctx: HubContext, share: string, cursor: number) {
  const [row] = await ctx.db
    .select({ files: count(), bytes: sql<number>`coalesce(sum(${entries.size}), 0)` })
    .from(entries)
    .where(and(eq(entries.share, share), gt(entries.seq, cursor)));
  return { files: row?.files ?? 0, bytes: Number(row?.bytes ?? 0) };
}

export async function listDeviceShares(ctx: HubContext, deviceId: string): Promise<DeviceShare[]> {
  const rows = await ctx.db
    .select({ share: shares, role: members.role, cursor: members.cursor, lastError: members.lastError })
    .from(members)
    .innerJoin(shares, eq(shares.name, members.share))
    .where(eq(members.deviceId, deviceId))
    .orderBy(shares.name);
  const out: DeviceShare[] = [];
  for (const { share, role, cursor, lastError } of rows) {
    const reached = role === "source" ? share.headSeq : cursor;
    // What the device still lacks, in files and bytes as well as sequence numbers (agent status shows it).
    const lag = reached < share.headSeq ? await lagOf(ctx, share.name, reached) : { files: 0, bytes: 0 };
    out.push({
      name: share.name,
      role,
      kind: share.kind,
      deletes: share.deletes,
      conflicts: share.conflicts,
      ...piholeField(share),
      head: share.headSeq,
      cursor: reached,
      lagFiles: lag.files,
      lagBytes: lag.bytes,
      lastError,
    });
  }
  return out;
}

/** The device's membership in a share, or a 403 naming what is wrong. */
export async function requireMembership(ctx: HubContext, deviceId: string, share: string) {
  const rows = await ctx.db
    .select({ member: members, share: shares })
    .from(members)
    .innerJoin(shares, eq(shares.name, members.share))
    .where(eq(members.deviceId, deviceId));
  const row = rows.find((r) => r.member.share === share);
  if (!row) throw new FleetsyncError("forbidden", `device ${deviceId} is not a member of share "${share}"`);
  return row;
}
