// Devices as the admin sees them: list with their shares, and revoke (refused at once on the next request).
import { and, eq, isNull } from "drizzle-orm";
import { FleetsyncError } from "../../shared/errors/fleetsync-error.ts";
import { devices, members } from "../db/schema.ts";
import { auditStatement } from "./audit.ts";
import type { HubContext } from "./hub-context.ts";
import { supersedePendingInstructions } from "./instructions.ts";

export async function listDevices(ctx: HubContext) {
  const rows = await ctx.db.select().from(devices).orderBy(devices.createdAt);
  const memberships = await ctx.db.select().from(members);
  return rows.map((row) => ({
    id: row.id,
    name: row.name,
    enrolledAt: new Date(row.createdAt).toISOString(),
    lastSeenAt: row.lastSeenAt === null ? null : new Date(row.lastSeenAt).toISOString(),
    state: row.revokedAt !== null ? "revoked" : row.approval === "approved" ? "active" : row.approval,
    shares: memberships.filter((m) => m.deviceId === row.id).map((m) => `${m.share}:${m.role}`),
  }));
}

export async function revokeDevice(ctx: HubContext, id: string) {
  const updated = await ctx.db
    .update(devices)
    .set({ revokedAt: ctx.now() })
    .where(and(eq(devices.id, id), isNull(devices.revokedAt)))
    .returning({ id: devices.id });
  if (updated.length === 0)
    throw new FleetsyncError("not_found", `no active device with id ${id}; see fleetsync device list`);
  await ctx.db.batch([
    supersedePendingInstructions(ctx, id),
    auditStatement(ctx, "admin", "device.revoke", id),
  ]);
  return { id, revoked: true };
}
