// The share page's data: members with lag and errors, recent changes, and sync runs with their operations.
import { and, desc, eq, inArray, like, or } from "drizzle-orm";
import { FleetsyncError } from "../../shared/errors/fleetsync-error.ts";
import { devices, entries, shares, syncOps, syncRuns } from "../db/schema.ts";
import { readMembers } from "./dashboard-members.ts";
import type { HubContext } from "./hub-context.ts";
import { piholeItemsOf } from "./shares.ts";

const RECENT_CHANGES = 25;
const RECENT_RUNS = 20;
const OPS_PER_RUN = 50;

export async function readShareDetail(ctx: HubContext, name: string) {
  const [share] = await ctx.db.select().from(shares).where(eq(shares.name, name));
  if (!share)
    throw new FleetsyncError("not_found", `share "${name}" does not exist; see fleetsync share list`);
  const memberViews = await readMembers(ctx, name);
  const changes = await ctx.db
    .select({
      path: entries.path,
      seq: entries.seq,
      type: entries.type,
      size: entries.size,
      deviceId: entries.deviceId,
      updatedAt: entries.updatedAt,
    })
    .from(entries)
    .where(eq(entries.share, name))
    .orderBy(desc(entries.seq))
    .limit(RECENT_CHANGES);
  const runs = await ctx.db
    .select({ run: syncRuns, deviceName: devices.name })
    .from(syncRuns)
    .leftJoin(devices, eq(devices.id, syncRuns.deviceId))
    .where(eq(syncRuns.share, name))
    .orderBy(desc(syncRuns.id))
    .limit(RECENT_RUNS);
  const runIds = runs.map((r) => r.run.id);
  const ops =
    runIds.length === 0
      ? []
      : await ctx.db.select().from(syncOps).where(inArray(syncOps.runId, runIds)).orderBy(syncOps.id);
  const opsByRun = new Map<number, (typeof ops)[number][]>();
  for (const op of ops) opsByRun.set(op.runId, [...(opsByRun.get(op.runId) ?? []), op]);
  const conflicts = await ctx.db
    .select({ op: syncOps, at: syncRuns.at, deviceId: syncRuns.deviceId })
    .from(syncOps)
    .innerJoin(syncRuns, eq(syncRuns.id, syncOps.runId))
    .where(
      and(
        eq(syncRuns.share, name),
        or(like(syncOps.action, "%conflict%"), like(syncOps.path, "%.sync-conflict-%")),
      ),
    )
    .orderBy(desc(syncOps.id))
    .limit(50);
  return {
    share,
    piholeItems: piholeItemsOf(share),
    members: memberViews,
    changes,
    runs: runs.map(({ run, deviceName }) => {
      const list = opsByRun.get(run.id) ?? [];
      return {
        ...run,
        deviceName,
        ops: list.slice(0, OPS_PER_RUN),
        moreOps: Math.max(0, list.length - OPS_PER_RUN),
      };
    }),
    conflicts: conflicts.map((c) => ({
      path: c.op.path,
      action: c.op.action,
      at: c.at,
      deviceId: c.deviceId,
    })),
  };
}
