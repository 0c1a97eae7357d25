// The device page's data: its state, its shares and roles, its sync history and errors, what the admin did to it.
import { desc, eq } from "drizzle-orm";
import { FleetsyncError } from "../../shared/errors/fleetsync-error.ts";
import { auditEvents, devices, syncRuns } from "../db/schema.ts";
import { deviceState } from "./dashboard-fleet.ts";
import { readMembers } from "./dashboard-members.ts";
import { isOnline } from "./device-presence.ts";
import type { HubContext } from "./hub-context.ts";

export async function readDeviceDetail(ctx: HubContext, id: string) {
  const [device] = await ctx.db.select().from(devices).where(eq(devices.id, id));
  if (!device) throw new FleetsyncError("not_found", `no device with id ${id}; see fleetsync device list`);
  const memberViews = (await readMembers(ctx)).filter((m) => m.deviceId === id);
  const runs = await ctx.db
    .select()
    .from(syncRuns)
    .where(eq(syncRuns.deviceId, id))
    .orderBy(desc(syncRuns.id))
    .limit(30);
  const audit = await ctx.db
    .select()
    .from(auditEvents)
    .where(eq(auditEvents.target, id))
    .orderBy(desc(auditEvents.id))
    .limit(30);
  return {
    device: {
      id: device.id,
      name: device.name,
      state: deviceState(device),
      online:
        device.revokedAt === null && device.approval !== "denied" && isOnline(device.lastSeenAt, ctx.now()),
      agentVersion: device.agentVersion,
      lastSeenAt: device.lastSeenAt,
      enrolledAt: device.createdAt,
      revokedAt: device.revokedAt,
    },
    shares: memberViews,
    runs,
    errors: runs.filter((r) => r.result !== "ok"),
    audit,
  };
}
