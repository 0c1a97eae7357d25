// A fingerprint of everything the dashboard shows: when it changes, open pages are told to refresh.
import { count, max } from "drizzle-orm";
import { devices, enrolmentTokens, members, shares, syncRuns } from "../db/schema.ts";
import { isOnline } from "./device-presence.ts";
import type { HubContext } from "./hub-context.ts";

export async function readStateVersion(ctx: HubContext): Promise<string> {
  const nowMs = ctx.now();
  const shareRows = await ctx.db
    .select({ n: shares.name, h: shares.headSeq })
    .from(shares)
    .orderBy(shares.name);
  const memberRows = await ctx.db
    .select({
      s: members.share,
      d: members.deviceId,
      c: members.cursor,
      e: members.lastError,
      r: members.role,
    })
    .from(members)
    .orderBy(members.share, members.deviceId);
  const deviceRows = await ctx.db
    .select({
      id: devices.id,
      n: devices.name,
      a: devices.approval,
      r: devices.revokedAt,
      s: devices.lastSeenAt,
    })
    .from(devices)
    .orderBy(devices.id);
  const [runs] = await ctx.db.select({ id: max(syncRuns.id) }).from(syncRuns);
  const [tokens] = await ctx.db
    .select({ n: count(), used: max(enrolmentTokens.usedAt), revoked: max(enrolmentTokens.revokedAt) })
    .from(enrolmentTokens);
  return JSON.stringify([
    shareRows,
    memberRows,
    deviceRows.map((d) => [d.id, d.n, d.a, d.r, isOnline(d.s, nowMs)]),
    runs?.id ?? 0,
    tokens,
  ]);
}
