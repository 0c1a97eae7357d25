// When a device counts as online: agents long-poll every 25 s and the hub notes them every 15 s.

/** A device not heard from for this long is offline (about three missed long-polls). */
export const ONLINE_WINDOW_MS = 90_000;

export function isOnline(lastSeenAt: number | null, nowMs: number): boolean {
  return lastSeenAt !== null && nowMs - lastSeenAt <= ONLINE_WINDOW_MS;
}
