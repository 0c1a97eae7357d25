// GET /metrics: the fleet's state from the database plus this process's HTTP counters, as Prometheus text.
import { count, eq, like, or } from "drizzle-orm";
import { devices, instructions, members, shares, syncOps, syncRuns } from "../db/schema.ts";
import { isOnline } from "./device-presence.ts";
import type { HubContext } from "./hub-context.ts";
import { memberLags } from "./member-lags.ts";
import type { HttpMetricsRecorder } from "./metrics-http-recorder.ts";
import { formatMetrics, type MetricFamily } from "./metrics-text.ts";

export async function renderMetrics(ctx: HubContext, http: HttpMetricsRecorder): Promise<string> {
  const nowMs = ctx.now();
  const shareRows = await ctx.db.select().from(shares).orderBy(shares.name);
  const heads = new Map(shareRows.map((s) => [s.name, s.headSeq]));
  const deviceRows = await ctx.db.select().from(devices).orderBy(devices.id);
  const lastSeen = new Map(deviceRows.map((d) => [d.id, d.lastSeenAt]));
  const memberRows = await ctx.db.select().from(members).orderBy(members.share, members.deviceId);
  const lags = await memberLags(ctx);
  const pending = await ctx.db
    .select({ share: instructions.share, deviceId: instructions.deviceId, n: count() })
    .from(instructions)
    .where(eq(instructions.status, "pending"))
    .groupBy(instructions.share, instructions.deviceId);
  const applied = await ctx.db
    .select({ share: syncRuns.share, deviceId: syncRuns.deviceId, ok: syncOps.ok, n: count() })
    .from(syncOps)
    .innerJoin(syncRuns, eq(syncRuns.id, syncOps.runId))
    .where(eq(syncRuns.kind, "apply"))
    .groupBy(syncRuns.share, syncRuns.deviceId, syncOps.ok);
  const runs = await ctx.db
    .select({ share: syncRuns.share, kind: syncRuns.kind, result: syncRuns.result, n: count() })
    .from(syncRuns)
    .groupBy(syncRuns.share, syncRuns.kind, syncRuns.result);
  const conflicts = await ctx.db
    .select({ share: syncRuns.share, n: count() })
    .from(syncOps)
    .innerJoin(syncRuns, eq(syncRuns.id, syncOps.runId))
    .where(or(like(syncOps.action, "%conflict%"), like(syncOps.path, "%.sync-conflict-%")))
    .groupBy(syncRuns.share);

  const receiving = memberRows.filter((m) => m.role !== "source");
  const cursorOf = (m: (typeof memberRows)[number]) =>
    m.role === "source" ? (heads.get(m.share) ?? 0) : m.cursor;
  const memberLabels = (m: { share: string; deviceId: string }) => ({ share: m.share, device: m.deviceId });
  const state = (d: (typeof deviceRows)[number]) =>
    d.revokedAt !== null ? "revoked" : d.approval === "approved" ? "active" : d.approval;
  const stateCounts = new Map<string, number>([
    ["active", 0],
    ["pending", 0],
    ["denied", 0],
    ["revoked", 0],
  ]);
  for (const d of deviceRows) stateCounts.set(state(d), (stateCounts.get(state(d)) ?? 0) + 1);

  const families: MetricFamily[] = [
    {
      name: "fleetsync_share_head_sequence",
      help: "The share's head: the sequence number of its latest accepted change.",
      type: "gauge",
      samples: shareRows.map((s) => ({ labels: { share: s.name }, value: s.headSeq })),
    },
    {
      name: "fleetsync_member_cursor_sequence",
      help: "The highest sequence the member has applied (a source is always at the head).",
      type: "gauge",
      samples: memberRows.map((m) => ({ labels: { ...memberLabels(m), role: m.role }, value: cursorOf(m) })),
    },
    {
      name: "fleetsync_member_lag_operations",
      help: "Sequence numbers between the member's cursor and the share's head.",
      type: "gauge",
      samples: receiving.map((m) => ({
        labels: memberLabels(m),
        value: Math.max(0, (heads.get(m.share) ?? 0) - m.cursor),
      })),
    },
    {
      name: "fleetsync_member_lag_files",
      help: "Paths changed in the share since the member's cursor.",
      type: "gauge",
      samples: receiving.map((m) => ({
        labels: memberLabels(m),
        value: lags.get(`${m.share}\u0000${m.deviceId}`)?.files ?? 0,
      })),
    },
    {
      name: "fleetsync_member_lag_bytes",
      help: "File bytes changed in the share since the member's cursor.",
      type: "gauge",
      samples: receiving.map((m) => ({
        labels: memberLabels(m),
        value: lags.get(`${m.share}\u0000${m.deviceId}`)?.bytes ?? 0,
      })),
    },
    {
      name: "fleetsync_member_last_seen_timestamp_seconds",
      help: "When the hub last heard from the member's device (Unix time).",
      type: "gauge",
      samples: memberRows
        .filter((m) => lastSeen.get(m.deviceId) != null)
        .map((m) => ({ labels: memberLabels(m), value: (lastSeen.get(m.deviceId) ?? 0) / 1000 })),
    },
    {
      name: "fleetsync_device_info",
      help: "One per enrolled device: its id, name and state (active, pending, denied, revoked).",
      type: "gauge",
      samples: deviceRows.map((d) => ({ labels: { device: d.id, name: d.name, state: state(d) }, value: 1 })),
    },
    {
      name: "fleetsync_device_up",
      help: "1 when the device is active and was heard from in the last 90 seconds, else 0.",
      type: "gauge",
      samples: deviceRows.map((d) => ({
        labels: { device: d.id },
        value: state(d) === "active" && isOnline(d.lastSeenAt, nowMs) ? 1 : 0,
      })),
    },
    {
      name: "fleetsync_devices",
      help: "Enrolled devices by state.",
      type: "gauge",
      samples: [...stateCounts].map(([s, value]) => ({ labels: { state: s }, value })),
    },
    {
      name: "fleetsync_instructions_pending",
      help: "Signed instructions handed out and not yet acknowledged, per member.",
      type: "gauge",
      samples: pending.map((p) => ({ labels: memberLabels(p), value: p.n })),
    },
    {
      name: "fleetsync_applied_operations_total",
      help: "Operations replicas reported applying, by result (ok or failed).",
      type: "counter",
      samples: applied.map((a) => ({
        labels: { ...memberLabels(a), result: a.ok ? "ok" : "failed" },
        value: a.n,
      })),
    },
    {
      name: "fleetsync_sync_runs_total",
      help: "Sync runs in the op log, by kind (report, apply, dry-run) and result (ok, partial, failed).",
      type: "counter",
      samples: runs.map((r) => ({ labels: { share: r.share, kind: r.kind, result: r.result }, value: r.n })),
    },
    {
      name: "fleetsync_conflicts_total",
      help: "Conflicting changes recorded in the op log.",
      type: "counter",
      samples: shareRows.map((s) => ({
        labels: { share: s.name },
        value: conflicts.find((c) => c.share === s.name)?.n ?? 0,
      })),
    },
    ...http.families(),
  ];
  return formatMetrics(families);
}
