// Remembers which agent version each device runs (from its User-Agent), writing only when it changes.
import { eq } from "drizzle-orm";
import { devices } from "../db/schema.ts";
import type { HubContext } from "./hub-context.ts";

const AGENT_PATTERN = /^fleetsync-agent\/([0-9A-Za-z.+-]{1,40})/;

/** Per hub context: device id → the version this process last saw (so a steady device costs no writes). */
const seenByHub = new WeakMap<HubContext, Map<string, string>>();

export function parseAgentVersion(userAgent: string | undefined): string | undefined {
  return userAgent === undefined ? undefined : AGENT_PATTERN.exec(userAgent)?.[1];
}

export async function recordAgentVersion(
  ctx: HubContext,
  deviceId: string,
  userAgent: string | undefined,
): Promise<void> {
  const version = parseAgentVersion(userAgent);
  if (version === undefined) return;
  let seen = seenByHub.get(ctx);
  if (!seen) {
    seen = new Map();
    seenByHub.set(ctx, seen);
  }
  if (seen.get(deviceId) === version) return;
  await ctx.db.update(devices).set({ agentVersion: version }).where(eq(devices.id, deviceId));
  seen.set(deviceId, version);
}
