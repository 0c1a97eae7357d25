// The fleet page's data: every share with its members counted by status, every device, problems first.
import { and, count, desc, eq, isNull } from "drizzle-orm";
import { devices, shares } from "../db/schema.ts";
import { MEMBER_STATUSES, type MemberStatus, statusRank } from "./dashboard-member-status.ts";
import { type MemberView, readMembers } from "./dashboard-members.ts";
import { isOnline } from "./device-presence.ts";
import type { HubContext } from "./hub-context.ts";

export type DeviceState = "active" | "pending" | "denied" | "revoked";

export type DeviceView = {
  id: string;
  name: string;
  state: DeviceState;
  online: boolean;
  lastSeenAt: number | null;
  agentVersion: string | null;
  enrolledAt: number;
  shares: { name: string; role: string; status: MemberStatus; lastError: string | null }[];
  /** The worst status over its shares (or its own state when it has none). */
  worst: MemberStatus;
};

export function deviceState(row: { revokedAt: number | null; approval: string }): DeviceState {
  if (row.revokedAt !== null) return "revoked";
  return row.approval === "approved" ? "active" : (row.approval as DeviceState);
}

export async function readFleet(ctx: HubContext) {
  const nowMs = ctx.now();
  const shareRows = await ctx.db.select().from(shares).orderBy(shares.name);
  const memberViews = await readMembers(ctx);
  const deviceRows = await ctx.db.select().from(devices).orderBy(desc(devices.createdAt));

  const byShare = new Map<string, MemberView[]>();
  for (const m of memberViews) byShare.set(m.share, [...(byShare.get(m.share) ?? []), m]);
  const shareViews = shareRows
    .map((s) => {
      const list = byShare.get(s.name) ?? [];
      const counts = Object.fromEntries(MEMBER_STATUSES.map((st) => [st, 0])) as Record<MemberStatus, number>;
      for (const m of list) counts[m.status] += 1;
      const worst = list.reduce<MemberStatus>(
        (w, m) => (statusRank(m.status) < statusRank(w) ? m.status : w),
        "up to date",
      );
      return {
        name: s.name,
        kind: s.kind,
        head: s.headSeq,
        approval: s.approval,
        members: list.length,
        counts,
        worst,
      };
    })
    .sort((a, b) => statusRank(a.worst) - statusRank(b.worst) || a.name.localeCompare(b.name));

  const deviceViews = deviceRows
    .map((d): DeviceView => {
      const state = deviceState(d);
      const mine = memberViews.filter((m) => m.deviceId === d.id);
      const own: MemberStatus =
        state === "pending"
          ? "pending"
          : state === "active"
            ? isOnline(d.lastSeenAt, nowMs)
              ? "up to date"
              : "offline"
            : "revoked";
      const worst = mine.reduce<MemberStatus>(
        (w, m) => (statusRank(m.status) < statusRank(w) ? m.status : w),
        own,
      );
      return {
        id: d.id,
        name: d.name,
        state,
        online: (state === "active" || state === "pending") && isOnline(d.lastSeenAt, nowMs),
        lastSeenAt: d.lastSeenAt,
        agentVersion: d.agentVersion,
        enrolledAt: d.createdAt,
        shares: mine.map((m) => ({ name: m.share, role: m.role, status: m.status, lastError: m.lastError })),
        worst,
      };
    })
    .sort((a, b) => statusRank(a.worst) - statusRank(b.worst) || a.name.localeCompare(b.name));
  return { shares: shareViews, devices: deviceViews, nowMs };
}

/** For the navigation badge: devices waiting for approval. */
export async function countPendingDevices(ctx: HubContext): Promise<number> {
  const [row] = await ctx.db
    .select({ n: count() })
    .from(devices)
    .where(and(eq(devices.approval, "pending"), isNull(devices.revokedAt)));
  return row?.n ?? 0;
}
