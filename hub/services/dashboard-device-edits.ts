// Rename and remove a device from the dashboard (remove: revoke, drop its memberships, forget it).
import { eq } from "drizzle-orm";
import { FleetsyncError } from "../../shared/errors/fleetsync-error.ts";
import { devices, instructions, members } from "../db/schema.ts";
import { auditStatement } from "./audit.ts";
import type { HubContext } from "./hub-context.ts";

export const MAX_DEVICE_NAME_LENGTH = 128;

async function requireDevice(ctx: HubContext, id: string) {
  const [device] = await ctx.db.select().from(devices).where(eq(devices.id, id));
  if (!device) throw new FleetsyncError("not_found", `no device with id ${id}; see fleetsync device list`);
  return device;
}

export async function renameDevice(ctx: HubContext, input: { id: string; name: string }) {
  const name = input.name.trim();
  if (name.length === 0 || name.length > MAX_DEVICE_NAME_LENGTH) {
    throw new FleetsyncError(
      "invalid",
      `field "name": use 1-${MAX_DEVICE_NAME_LENGTH} characters for the device's new name`,
    );
  }
  const device = await requireDevice(ctx, input.id);
  await ctx.db.batch([
    ctx.db.update(devices).set({ name }).where(eq(devices.id, input.id)),
    auditStatement(ctx, "admin", "device.rename", input.id, { from: device.name, to: name }),
  ]);
  return { id: input.id, name };
}

/** The device is locked out and leaves every share; its op-log history stays, under its id. */
export async function removeDevice(ctx: HubContext, id: string) {
  const device = await requireDevice(ctx, id);
  await ctx.db.batch([
    ctx.db.delete(instructions).where(eq(instructions.deviceId, id)),
    ctx.db.delete(members).where(eq(members.deviceId, id)),
    ctx.db.delete(devices).where(eq(devices.id, id)),
    auditStatement(ctx, "admin", "device.remove", id, { name: device.name }),
  ]);
  ctx.log.info("device removed", { device: id });
  return { id, removed: true };
}
