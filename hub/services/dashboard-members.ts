// Every member of every share (or one share) with its lag, last error and one-word status, for the dashboard.
import { count, eq } from "drizzle-orm";
import { devices, instructions, members, shares } from "../db/schema.ts";
import { type MemberStatus, memberStatus, statusRank } from "./dashboard-member-status.ts";
import { isOnline } from "./device-presence.ts";
import type { HubContext } from "./hub-context.ts";
import { memberLags } from "./member-lags.ts";

export type MemberView = {
  share: string;
  deviceId: string;
  deviceName: string;
  role: "source" | "replica" | "peer";
  cursor: number;
  head: number;
  lagOperations: number;
  lagFiles: number;
  lagBytes: number;
  lastSeenAt: number | null;
  lastApplyAt: number | null;
  lastReportAt: number | null;
  lastError: string | null;
  dryRun: boolean;
  online: boolean;
  status: MemberStatus;
};

export async function readMembers(ctx: HubContext, share?: string): Promise<MemberView[]> {
  const nowMs = ctx.now();
  const rows = await ctx.db
    .select({ member: members, device: devices, head: shares.headSeq })
    .from(members)
    .innerJoin(devices, eq(devices.id, members.deviceId))
    .innerJoin(shares, eq(shares.name, members.share))
    .where(share === undefined ? undefined : eq(members.share, share));
  const lags = await memberLags(ctx);
  const pending = await ctx.db
    .select({ share: instructions.share, deviceId: instructions.deviceId, n: count() })
    .from(instructions)
    .where(eq(instructions.status, "pending"))
    .groupBy(instructions.share, instructions.deviceId);
  const hasPending = new Set(pending.map((p) => `${p.share}\u0000${p.deviceId}`));
  const views = rows.map(({ member, device, head }): MemberView => {
    const key = `${member.share}\u0000${member.deviceId}`;
    const isSource = member.role === "source";
    const lagOperations = isSource ? 0 : Math.max(0, head - member.cursor);
    return {
      share: member.share,
      deviceId: device.id,
      deviceName: device.name,
      role: member.role,
      cursor: isSource ? head : member.cursor,
      head,
      lagOperations,
      lagFiles: isSource ? 0 : (lags.get(key)?.files ?? 0),
      lagBytes: isSource ? 0 : (lags.get(key)?.bytes ?? 0),
      lastSeenAt: device.lastSeenAt,
      lastApplyAt: member.lastApplyAt,
      lastReportAt: member.lastReportAt,
      lastError: member.lastError,
      dryRun: member.dryRun,
      online: isOnline(device.lastSeenAt, nowMs),
      status: memberStatus(
        {
          role: member.role,
          lag: lagOperations,
          lastError: member.lastError,
          lastSeenAt: device.lastSeenAt,
          lastApplyAt: member.lastApplyAt,
          revoked: device.revokedAt !== null,
          approval: device.approval,
          hasPendingInstruction: hasPending.has(key),
        },
        nowMs,
      ),
    };
  });
  return views.sort(
    (a, b) =>
      statusRank(a.status) - statusRank(b.status) ||
      a.share.localeCompare(b.share) ||
      a.deviceName.localeCompare(b.deviceName),
  );
}
