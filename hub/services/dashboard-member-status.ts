// How a member is doing, in one word the dashboard sorts by: problems first.
import { isOnline } from "./device-presence.ts";

export const MEMBER_STATUSES = [
  "erroring",
  "offline",
  "behind",
  "pending",
  "syncing",
  "up to date",
  "revoked",
] as const;
export type MemberStatus = (typeof MEMBER_STATUSES)[number];

/** A member that applied something this recently and is still behind is syncing, not stuck. */
export const SYNCING_WINDOW_MS = 60_000;

export type MemberFacts = {
  role: "source" | "replica" | "peer";
  lag: number;
  lastError: string | null;
  lastSeenAt: number | null;
  lastApplyAt: number | null;
  revoked: boolean;
  approval: "approved" | "pending" | "denied";
  hasPendingInstruction: boolean;
};

export function memberStatus(facts: MemberFacts, nowMs: number): MemberStatus {
  if (facts.revoked || facts.approval === "denied") return "revoked";
  if (facts.approval === "pending") return "pending";
  if (facts.lastError) return "erroring";
  if (!isOnline(facts.lastSeenAt, nowMs)) return "offline";
  if (facts.lag <= 0) return "up to date";
  const recentlyApplied = facts.lastApplyAt !== null && nowMs - facts.lastApplyAt <= SYNCING_WINDOW_MS;
  return recentlyApplied || facts.hasPendingInstruction ? "syncing" : "behind";
}

/** Sort key: lower is a bigger problem. */
export function statusRank(status: MemberStatus): number {
  return MEMBER_STATUSES.indexOf(status);
}
