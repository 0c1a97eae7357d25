// Decides which alert events are due: members that started or stopped failing, devices silent past the limit,
// new conflicts. Pure: the monitor feeds it the hub's state and carries out the changes it returns.

export const ALERT_KINDS = ["error", "offline", "conflict", "recovered"] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

export type AlertRule = { id: string; url: string; events: AlertKind[]; offlineAfterMs: number };
export type AlertSubjectState = {
  alertId: string;
  subject: string;
  status: "error" | "offline";
  since: number;
};
export type MemberSnapshot = {
  share: string;
  deviceId: string;
  deviceName: string;
  lastError: string | null;
};
/** Active (approved, not revoked) devices only. */
export type DeviceSnapshot = { id: string; name: string; lastSeenAt: number | null; shares: string[] };
export type ConflictSnapshot = {
  share: string;
  deviceId: string;
  deviceName: string;
  path: string;
  at: number;
};

export type AlertEvent = {
  what: AlertKind;
  share: string | null;
  deviceId: string;
  deviceName: string;
  /** In the agent's own words where there are any (its reported error). */
  why: string;
  at: number;
};

/** A state change the monitor must claim before sending, so several hub processes send an event once. */
export type StateChange =
  | { kind: "enter"; alertId: string; subject: string; status: "error" | "offline"; since: number }
  | { kind: "leave"; alertId: string; subject: string };

export type PlannedAlert = { alert: AlertRule; event?: AlertEvent; change?: StateChange };

export type AlertInputs = {
  rules: AlertRule[];
  states: AlertSubjectState[];
  members: MemberSnapshot[];
  devices: DeviceSnapshot[];
  conflicts: ConflictSnapshot[];
  nowMs: number;
};

export const errorSubject = (share: string, deviceId: string) => `error:${share}:${deviceId}`;
export const offlineSubject = (deviceId: string) => `offline:${deviceId}`;

function describeSilence(lastSeenAt: number | null, nowMs: number): string {
  if (lastSeenAt === null) return "the hub has never heard from it";
  const minutes = Math.max(1, Math.round((nowMs - lastSeenAt) / 60_000));
  return `no contact for ${minutes} min (last seen ${new Date(lastSeenAt).toISOString()})`;
}

export function planAlerts(input: AlertInputs): PlannedAlert[] {
  const out: PlannedAlert[] = [];
  const { nowMs } = input;
  for (const alert of input.rules) {
    const wants = (kind: AlertKind) => alert.events.includes(kind);
    const mine = new Map(input.states.filter((s) => s.alertId === alert.id).map((s) => [s.subject, s]));
    const tracksErrors = wants("error") || wants("recovered");
    const tracksOffline = wants("offline") || wants("recovered");

    if (tracksErrors) {
      const failing = new Map<string, MemberSnapshot>();
      for (const m of input.members) if (m.lastError) failing.set(errorSubject(m.share, m.deviceId), m);
      for (const [subject, m] of failing) {
        if (mine.has(subject)) continue;
        out.push({
          alert,
          change: { kind: "enter", alertId: alert.id, subject, status: "error", since: nowMs },
          ...(wants("error")
            ? {
                event: {
                  what: "error",
                  share: m.share,
                  deviceId: m.deviceId,
                  deviceName: m.deviceName,
                  why: m.lastError!,
                  at: nowMs,
                },
              }
            : {}),
        });
      }
      for (const state of mine.values()) {
        if (state.status !== "error" || failing.has(state.subject)) continue;
        const [, share = "", deviceId = ""] = state.subject.split(":");
        const member = input.members.find((m) => m.share === share && m.deviceId === deviceId);
        const change: StateChange = { kind: "leave", alertId: alert.id, subject: state.subject };
        // A member that left the share (or a device revoked) is no longer watched; it did not recover.
        if (!member || !wants("recovered")) out.push({ alert, change });
        else
          out.push({
            alert,
            change,
            event: {
              what: "recovered",
              share,
              deviceId,
              deviceName: member.deviceName,
              why: "applies changes again without errors",
              at: nowMs,
            },
          });
      }
    }

    if (tracksOffline) {
      const byId = new Map(input.devices.map((d) => [d.id, d]));
      for (const d of input.devices) {
        const silent = d.lastSeenAt === null || nowMs - d.lastSeenAt > alert.offlineAfterMs;
        const subject = offlineSubject(d.id);
        if (!silent || mine.has(subject)) continue;
        out.push({
          alert,
          change: { kind: "enter", alertId: alert.id, subject, status: "offline", since: nowMs },
          ...(wants("offline")
            ? {
                event: {
                  what: "offline",
                  share: d.shares.length > 0 ? d.shares.join(",") : null,
                  deviceId: d.id,
                  deviceName: d.name,
                  why: describeSilence(d.lastSeenAt, nowMs),
                  at: nowMs,
                },
              }
            : {}),
        });
      }
      for (const state of mine.values()) {
        if (state.status !== "offline") continue;
        const deviceId = state.subject.slice("offline:".length);
        const d = byId.get(deviceId);
        const change: StateChange = { kind: "leave", alertId: alert.id, subject: state.subject };
        if (!d) {
          out.push({ alert, change });
          continue;
        }
        const back = d.lastSeenAt !== null && nowMs - d.lastSeenAt <= alert.offlineAfterMs;
        if (!back) continue;
        out.push({
          alert,
          change,
          ...(wants("recovered")
            ? {
                event: {
                  what: "recovered",
                  share: d.shares.length > 0 ? d.shares.join(",") : null,
                  deviceId: d.id,
                  deviceName: d.name,
                  why: "back online",
                  at: nowMs,
                },
              }
            : {}),
        });
      }
    }

    if (wants("conflict")) {
      for (const c of input.conflicts) {
        out.push({
          alert,
          event: {
            what: "conflict",
            share: c.share,
            deviceId: c.deviceId,
            deviceName: c.deviceName,
            why: `conflicting change on ${c.path}; both versions were kept`,
            at: c.at,
          },
        });
      }
    }
  }
  return out;
}
