// One pass of the alert loop: read the hub's state, plan the due events, claim each, and deliver it.
import { and, eq, gt, isNull, like, max, or } from "drizzle-orm";
import { alertStates, devices, hubSettings, members, syncOps, syncRuns } from "../db/schema.ts";
import type { RateLimiter } from "../ports/rate-limiter.ts";
import { alertMessage, deliverAlert } from "./alert-delivery.ts";
import { type ConflictSnapshot, type PlannedAlert, planAlerts, type StateChange } from "./alert-plan.ts";
import { loadAlertRules } from "./alerts.ts";
import type { HubContext } from "./hub-context.ts";
import { readSetting } from "./initialize-hub.ts";

const CONFLICT_CURSOR = "alerts_conflict_op_id";

export type AlertMonitorOptions = {
  fetch?: typeof fetch;
  /** Events each alert may send per minute; the rest are dropped (and logged). */
  limiter: RateLimiter;
  retryDelaysMs?: number[];
  attemptTimeoutMs?: number;
};

export type AlertMonitor = { check: () => Promise<{ sent: number; failed: number; dropped: number }> };

export function createAlertMonitor(ctx: HubContext, options: AlertMonitorOptions): AlertMonitor {
  let running: ReturnType<AlertMonitor["check"]> | undefined;
  return {
    check() {
      running ??= checkOnce(ctx, options).finally(() => {
        running = undefined;
      });
      return running;
    },
  };
}

/** New conflicts since the last pass; the first pass ever only notes where the op log is. */
async function newConflicts(
  ctx: HubContext,
): Promise<{ conflicts: ConflictSnapshot[]; claim?: () => Promise<boolean> }> {
  const stored = await readSetting(ctx.db, CONFLICT_CURSOR);
  const [top] = await ctx.db.select({ id: max(syncOps.id) }).from(syncOps);
  const head = top?.id ?? 0;
  if (stored === undefined) {
    await ctx.db
      .insert(hubSettings)
      .values({ key: CONFLICT_CURSOR, value: String(head) })
      .onConflictDoNothing();
    return { conflicts: [] };
  }
  const from = Number(stored);
  if (head <= from) return { conflicts: [] };
  const rows = await ctx.db
    .select({ op: syncOps, run: syncRuns, deviceName: devices.name })
    .from(syncOps)
    .innerJoin(syncRuns, eq(syncRuns.id, syncOps.runId))
    .leftJoin(devices, eq(devices.id, syncRuns.deviceId))
    .where(
      and(
        gt(syncOps.id, from),
        or(like(syncOps.action, "%conflict%"), like(syncOps.path, "%.sync-conflict-%")),
      ),
    );
  const claim = async () => {
    const moved = await ctx.db
      .update(hubSettings)
      .set({ value: String(head) })
      .where(and(eq(hubSettings.key, CONFLICT_CURSOR), eq(hubSettings.value, stored)))
      .returning({ key: hubSettings.key });
    return moved.length > 0;
  };
  return {
    conflicts: rows
      .filter((r) => r.op.id <= head)
      .map((r) => ({
        share: r.run.share,
        deviceId: r.run.deviceId,
        deviceName: r.deviceName ?? r.run.deviceId,
        path: r.op.path,
        at: r.run.at,
      })),
    claim,
  };
}

/** Applies a state change only if no other process did it first; true when this process won. */
async function claimChange(ctx: HubContext, change: StateChange): Promise<boolean> {
  if (change.kind === "enter") {
    const inserted = await ctx.db
      .insert(alertStates)
      .values({
        alertId: change.alertId,
        subject: change.subject,
        status: change.status,
        since: change.since,
      })
      .onConflictDoNothing()
      .returning({ subject: alertStates.subject });
    return inserted.length > 0;
  }
  const deleted = await ctx.db
    .delete(alertStates)
    .where(and(eq(alertStates.alertId, change.alertId), eq(alertStates.subject, change.subject)))
    .returning({ subject: alertStates.subject });
  return deleted.length > 0;
}

async function checkOnce(ctx: HubContext, options: AlertMonitorOptions) {
  const counts = { sent: 0, failed: 0, dropped: 0 };
  const rules = await loadAlertRules(ctx);
  if (rules.length === 0) return counts;
  const nowMs = ctx.now();
  const states = await ctx.db.select().from(alertStates);
  const active = and(isNull(devices.revokedAt), eq(devices.approval, "approved"));
  const memberRows = await ctx.db
    .select({
      share: members.share,
      deviceId: members.deviceId,
      deviceName: devices.name,
      lastError: members.lastError,
    })
    .from(members)
    .innerJoin(devices, eq(devices.id, members.deviceId))
    .where(active);
  const deviceRows = await ctx.db
    .select({ id: devices.id, name: devices.name, lastSeenAt: devices.lastSeenAt })
    .from(devices)
    .where(active);
  const conflicts = await newConflicts(ctx);
  const planned = planAlerts({
    rules,
    states,
    members: memberRows,
    devices: deviceRows.map((d) => ({
      ...d,
      shares: memberRows.filter((m) => m.deviceId === d.id).map((m) => m.share),
    })),
    conflicts: conflicts.conflicts,
    nowMs,
  });
  const conflictsClaimed = conflicts.claim ? await conflicts.claim() : false;

  const toSend: PlannedAlert[] = [];
  for (const item of planned) {
    if (item.change ? !(await claimChange(ctx, item.change)) : !conflictsClaimed) continue;
    if (item.event) toSend.push(item);
  }
  const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
  await Promise.all(
    toSend.map(async ({ alert, event }) => {
      if (!event) return;
      if ((await options.limiter.hit(alert.id, ctx.now())) > 0) {
        counts.dropped++;
        ctx.log.warn("alert rate limit reached; event dropped", {
          alert: alert.id,
          what: event.what,
          device: event.deviceId,
        });
        return;
      }
      const result = await deliverAlert({
        fetch: options.fetch ?? fetch,
        url: alert.url,
        message: alertMessage({ url: alert.url, alertId: alert.id, hubId: ctx.identity.hubId, event }),
        retryDelaysMs: options.retryDelaysMs ?? [1000, 5000],
        attemptTimeoutMs: options.attemptTimeoutMs ?? 10_000,
        sleep,
      });
      if (result.ok) {
        counts.sent++;
        ctx.log.info("alert sent", {
          alert: alert.id,
          what: event.what,
          device: event.deviceId,
          attempts: result.attempts,
        });
      } else {
        counts.failed++;
        ctx.log.error("alert could not be delivered", {
          alert: alert.id,
          host: new URL(alert.url).host,
          what: event.what,
          attempts: result.attempts,
          problem: result.problem,
        });
      }
    }),
  );
  return counts;
}
