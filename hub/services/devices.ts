// Devices as the admin sees them: list with their shares, rename, revoke (refused at once), remove once revoked.
import { and, eq, isNull } from "drizzle-orm";
import { FleetsyncError } from "../../shared/errors/fleetsync-error.ts";
import { deviceJtis, devices, instructions, members } from "../db/schema.ts";
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

export const MAX_DEVICE_NAME_LENGTH = 128;

export async function renameDevice(ctx: HubContext, id: string, newName: string) {
  const name = newName.trim();
  if (name.length === 0 || name.length > MAX_DEVICE_NAME_LENGTH) {
    throw new FleetsyncError(
      "invalid",
      `field "name": use 1-${MAX_DEVICE_NAME_LENGTH} characters for the device's new name`,
    );
  }
  const updated = await ctx.db
    .update(devices)
    .set({ name })
    .where(eq(devices.id, id))
    .returning({ id: devices.id });
  if (updated.length === 0)
    throw new FleetsyncError("not_found", `no device with id ${id}; see fleetsync device list`);
  await auditStatement(ctx, "admin", "device.rename", id, { name });
  return { id, name };
}

/** Forgets a revoked device: memberships, instructions and token records go; the op-log history stays. */
export async function removeDevice(ctx: HubContext, id: string) {
  const [device] = await ctx.db.select().from(devices).where(eq(devices.id, id));
  if (!device) throw new FleetsyncError("not_found", `no device with id ${id}; see fleetsync device list`);
  if (device.revokedAt === null)
    throw new FleetsyncError(
      "conflict",
      `device ${id} is still active; revoke it first: fleetsync device revoke ${id}`,
    );
  const removedMemberships = await ctx.db
    .select({ share: members.share })
    .from(members)
    .where(eq(members.deviceId, id));
  await ctx.db.batch([
    ctx.db.delete(members).where(eq(members.deviceId, id)),
    ctx.db.delete(instructions).where(eq(instructions.deviceId, id)),
    ctx.db.delete(deviceJtis).where(eq(deviceJtis.deviceId, id)),
    ctx.db.delete(devices).where(eq(devices.id, id)),
    auditStatement(ctx, "admin", "device.remove", id, { name: device.name }),
  ]);
  return { id, removed: true, shares: removedMemberships.map((m) => m.share) };
}
