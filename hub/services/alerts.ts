// The alert rules an admin manages: add (URL, events, offline limit), list, remove.
import { eq } from "drizzle-orm";
import { FleetsyncError } from "../../shared/errors/fleetsync-error.ts";
import { parseDurationMs } from "../../shared/time/parse-duration.ts";
import { alertStates, alerts } from "../db/schema.ts";
import { ALERT_KINDS, type AlertKind, type AlertRule } from "./alert-plan.ts";
import { auditStatement } from "./audit.ts";
import type { HubContext } from "./hub-context.ts";

/** Agents reach the hub about every 25 s and last-seen moves in 15 s steps: shorter limits would flap. */
export const MIN_OFFLINE_AFTER_MS = 60_000;
export const MAX_OFFLINE_AFTER_MS = 30 * 86_400_000;
export const DEFAULT_OFFLINE_AFTER = "5m";

export type AddAlertInput = { url: string; on?: string[]; offlineAfter?: string };

export async function addAlert(ctx: HubContext, input: AddAlertInput) {
  let url: URL;
  try {
    url = new URL(input.url);
  } catch {
    throw new FleetsyncError(
      "invalid",
      `field "url": "${input.url}" is not a URL; e.g. https://ntfy.sh/my-fleet`,
    );
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new FleetsyncError("invalid", `field "url": use an http(s) URL, not ${url.protocol}`);
  const events = [...new Set(input.on ?? ALERT_KINDS)];
  const unknown = events.find((e) => !(ALERT_KINDS as readonly string[]).includes(e));
  if (unknown !== undefined || events.length === 0)
    throw new FleetsyncError(
      "invalid",
      `field "on": ${unknown === undefined ? "name at least one event" : `"${unknown}" is not an event`}; use ${ALERT_KINDS.join(", ")}`,
    );
  const offlineText = input.offlineAfter ?? DEFAULT_OFFLINE_AFTER;
  const offlineAfterMs = parseDurationMs(offlineText);
  if (
    offlineAfterMs === undefined ||
    offlineAfterMs < MIN_OFFLINE_AFTER_MS ||
    offlineAfterMs > MAX_OFFLINE_AFTER_MS
  )
    throw new FleetsyncError(
      "invalid",
      `field "offlineAfter": "${offlineText}" must be a duration from 1m to 30d, such as 5m or 1h`,
    );
  const id = `al_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
  const row = {
    id,
    url: url.toString(),
    events: JSON.stringify(events),
    offlineAfterMs,
    createdAt: ctx.now(),
  };
  await ctx.db.batch([
    ctx.db.insert(alerts).values(row),
    auditStatement(ctx, "admin", "alert.add", id, { host: url.host, events, offlineAfterMs }),
  ]);
  return toView(row);
}

function toView(row: typeof alerts.$inferSelect) {
  return {
    id: row.id,
    url: row.url,
    on: JSON.parse(row.events) as AlertKind[],
    offlineAfterSeconds: Math.round(row.offlineAfterMs / 1000),
    createdAt: new Date(row.createdAt).toISOString(),
  };
}

export async function listAlerts(ctx: HubContext) {
  return (await ctx.db.select().from(alerts).orderBy(alerts.createdAt)).map(toView);
}

export async function loadAlertRules(ctx: HubContext): Promise<AlertRule[]> {
  return (await ctx.db.select().from(alerts)).map((row) => ({
    id: row.id,
    url: row.url,
    events: JSON.parse(row.events) as AlertKind[],
    offlineAfterMs: row.offlineAfterMs,
  }));
}

export async function removeAlert(ctx: HubContext, id: string) {
  const removed = await ctx.db.delete(alerts).where(eq(alerts.id, id)).returning({ id: alerts.id });
  if (removed.length === 0)
    throw new FleetsyncError("not_found", `no alert with id ${id}; see fleetsync alert list`);
  await ctx.db.batch([
    ctx.db.delete(alertStates).where(eq(alertStates.alertId, id)),
    auditStatement(ctx, "admin", "alert.remove", id),
  ]);
  return { id, removed: true };
}
