// A member's own word on its state: the agent reports why a share is paused (or that it resumed).
import { and, eq } from "drizzle-orm";
import type { StatusRequest, StatusResponse } from "../../shared/protocol/messages.ts";
import { members } from "../db/schema.ts";
import type { HubContext } from "./hub-context.ts";
import { settleRelayMember } from "./relay-blocks.ts";
import { requireMembership } from "./shares.ts";

export async function reportMemberStatus(
  ctx: HubContext,
  input: { deviceId: string; share: string } & StatusRequest,
): Promise<StatusResponse> {
  const { member } = await requireMembership(ctx, input.deviceId, input.share);
  const nowMs = ctx.now();
  const at = input.lastError === null ? null : nowMs;
  await ctx.db
    .update(members)
    .set({ lastError: input.lastError, lastErrorAt: at })
    .where(and(eq(members.share, input.share), eq(members.deviceId, input.deviceId)));
  // A member with no error any more has what it waited for: a relay share's re-upload requests are settled, and
  // after a failure (its acks settled nothing) everything up to its cursor is looked at again.
  if (input.lastError === null) {
    const recovered = member.lastError !== null && member.role !== "source";
    await settleRelayMember(ctx, {
      share: input.share,
      deviceId: input.deviceId,
      ...(recovered ? { acked: { fromSeq: 0, toSeq: member.cursor } } : {}),
    });
  }
  if (input.lastError !== null)
    ctx.log.warn("member reports a problem", {
      share: input.share,
      device: input.deviceId,
      error: input.lastError,
    });
  return {
    share: input.share,
    lastError: input.lastError,
    lastErrorAt: at === null ? null : new Date(at).toISOString(),
  };
}
