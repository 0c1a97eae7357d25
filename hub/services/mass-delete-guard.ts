// Holds a report that would delete most of a share (Unison's confirmbigdel) until an admin confirms it.
import { and, count, eq, ne } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { FleetsyncError } from "../../shared/errors/fleetsync-error.ts";
import type { ReportResponse } from "../../shared/protocol/messages.ts";
import { devices, entries, shares } from "../db/schema.ts";
import { auditStatement } from "./audit.ts";
import type { HubContext } from "./hub-context.ts";

/** A report deleting at least this share of the live entries, and at least MIN_DELETES of them, is held. */
export const MASS_DELETE_FRACTION = 0.5;
export const MIN_MASS_DELETES = 10;
/**
 * How long `share confirm-delete` lets mass deletes of the share through. A window, not one report: an emptied
 * large share deletes in several reports, and each of them is as large as the rest of the share.
 */
export const DELETE_CONFIRMATION_MS = 15 * 60 * 1000;

/**
 * True when a report deleting `deletes` of `live` entries, and creating `creates` new ones, is a mass delete
 * (pure; the rule in one place). Creations offset deletions, so renaming or moving a folder is not one:
 * what counts is how much of the share would really be gone, or that it would be left empty.
 */
export function isMassDelete(change: { deletes: number; live: number; creates?: number }): boolean {
  const { deletes, live } = change;
  const creates = change.creates ?? 0;
  if (deletes === 0) return false;
  if (live >= 2 && deletes >= live && creates === 0) return true;
  const net = deletes - creates;
  return net >= MIN_MASS_DELETES && net >= live * MASS_DELETE_FRACTION;
}

type Share = typeof shares.$inferSelect;

export type GuardDecision =
  | { held: Extract<ReportResponse, { status: "held" }> }
  | {
      held: undefined;
      /** Statements for the commit's batch (consume a confirmation, clear this device's hold). */
      statements: BatchItem<"sqlite">[];
    };

function clearStatement(ctx: HubContext, share: string, set: Partial<Share>) {
  return ctx.db.update(shares).set(set).where(eq(shares.name, share));
}

/** Decides whether a report deleting `deletes` live entries of `share` is committed or held (and records a hold). */
export async function guardMassDelete(
  ctx: HubContext,
  input: { share: Share; deviceId: string; deletes: number; creates: number },
): Promise<GuardDecision> {
  const { share, deviceId, deletes, creates } = input;
  const nowMs = ctx.now();
  const clearHold = {
    heldDeleteDevice: null,
    heldDeletes: null,
    heldLive: null,
    heldAt: null,
  } satisfies Partial<Share>;
  const clearOwnHold =
    share.heldDeleteDevice === deviceId ? [clearStatement(ctx, share.name, clearHold)] : [];
  if (deletes < 2) return { held: undefined, statements: clearOwnHold };
  const [row] = await ctx.db
    .select({ n: count() })
    .from(entries)
    .where(and(eq(entries.share, share.name), ne(entries.type, "deleted")));
  const live = row?.n ?? 0;
  if (!isMassDelete({ deletes, live, creates })) return { held: undefined, statements: clearOwnHold };
  if (share.deleteConfirmedUntil !== null && share.deleteConfirmedUntil > nowMs) {
    ctx.log.warn("confirmed mass delete let through", { share: share.name, device: deviceId, deletes, live });
    return {
      held: undefined,
      statements: [
        clearStatement(ctx, share.name, clearHold),
        auditStatement(ctx, `device:${deviceId}`, "share.mass-delete", share.name, { deletes, live }),
      ],
    };
  }
  const [device] = await ctx.db.select({ name: devices.name }).from(devices).where(eq(devices.id, deviceId));
  const reason = `report from ${device?.name ?? deviceId} (${deviceId}) would delete ${deletes} of ${live} entries of share ${share.name}; nothing was deleted. If that is intended: fleetsync share confirm-delete ${share.name}`;
  await ctx.db
    .update(shares)
    .set({ heldDeleteDevice: deviceId, heldDeletes: deletes, heldLive: live, heldAt: nowMs })
    .where(eq(shares.name, share.name));
  ctx.log.warn("mass delete held", { share: share.name, device: deviceId, deletes, live });
  return { held: { status: "held", deletes, live, reason } };
}

/** `share confirm-delete`: mass deletes of the share are let through for the next 15 minutes. */
export async function confirmMassDelete(ctx: HubContext, name: string) {
  const until = ctx.now() + DELETE_CONFIRMATION_MS;
  const updated = await ctx.db
    .update(shares)
    .set({ deleteConfirmedUntil: until })
    .where(eq(shares.name, name))
    .returning({
      heldDeletes: shares.heldDeletes,
      heldLive: shares.heldLive,
      heldDeleteDevice: shares.heldDeleteDevice,
    });
  const [share] = updated;
  if (!share)
    throw new FleetsyncError("not_found", `share "${name}" does not exist; see fleetsync share list`);
  await auditStatement(ctx, "admin", "share.confirm-delete", name, { until });
  return {
    share: name,
    until: new Date(until).toISOString(),
    held:
      share.heldDeletes === null
        ? null
        : `${share.heldDeletes} of ${share.heldLive} entries from device ${share.heldDeleteDevice}`,
  };
}
