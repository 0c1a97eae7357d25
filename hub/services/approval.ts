// Device approval: who starts pending, the 403 a pending device gets, and approve / deny by the admin.
import { and, eq, inArray } from "drizzle-orm";
import { FleetsyncError } from "../../shared/errors/fleetsync-error.ts";
import { devices, shares } from "../db/schema.ts";
import { auditStatement } from "./audit.ts";
import type { HubContext } from "./hub-context.ts";
import { supersedePendingInstructions } from "./instructions.ts";

export type ApprovalState = "approved" | "pending" | "denied";

/** A device starts pending when its token asked for approval or any share it joins requires it. */
export async function initialApproval(
  ctx: HubContext,
  input: { tokenRequiresApproval: boolean; shares: string[] },
): Promise<ApprovalState> {
  if (input.tokenRequiresApproval) return "pending";
  if (input.shares.length === 0) return "approved";
  const strict = await ctx.db
    .select({ name: shares.name })
    .from(shares)
    .where(and(inArray(shares.name, input.shares), eq(shares.approval, "required")));
  return strict.length > 0 ? "pending" : "approved";
}

/** Throws what a device that is not approved must be told; nothing for an approved one. */
export function requireApproved(device: { id: string; approval: ApprovalState }): void {
  if (device.approval === "pending") {
    throw new FleetsyncError(
      "awaiting_approval",
      `device ${device.id} is waiting for approval: fleetsync device approve ${device.id}`,
    );
  }
  if (device.approval === "denied") {
    throw new FleetsyncError(
      "unauthenticated",
      `device ${device.id} was denied by the admin; enroll it again with a new token if that was a mistake`,
    );
  }
}

async function decide(ctx: HubContext, id: string, to: "approved" | "denied") {
  const [device] = await ctx.db.select().from(devices).where(eq(devices.id, id));
  if (!device) throw new FleetsyncError("not_found", `no device with id ${id}; see fleetsync device list`);
  if (device.revokedAt !== null)
    throw new FleetsyncError("conflict", `device ${id} was revoked; enroll it again with a new token`);
  if (device.approval !== "pending") {
    throw new FleetsyncError(
      "conflict",
      `device ${id} is not waiting for approval (it is ${device.approval}); see fleetsync device list`,
    );
  }
  const updated = await ctx.db
    .update(devices)
    .set({ approval: to })
    .where(and(eq(devices.id, id), eq(devices.approval, "pending")))
    .returning({ id: devices.id });
  if (updated.length === 0)
    throw new FleetsyncError("conflict", `device ${id} was decided by someone else meanwhile`);
  await ctx.db.batch([
    supersedePendingInstructions(ctx, id),
    auditStatement(ctx, "admin", to === "approved" ? "device.approve" : "device.deny", id),
  ]);
  ctx.log.info(to === "approved" ? "device approved" : "device denied", { device: id });
  return { id, approval: to };
}

export function approveDevice(ctx: HubContext, id: string) {
  return decide(ctx, id, "approved");
}

export function denyDevice(ctx: HubContext, id: string) {
  return decide(ctx, id, "denied");
}
