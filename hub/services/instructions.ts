// Instructions for receiving members: hand out by long-poll (issued in issue-instructions.ts), record acks and cursors.
import { and, desc, eq, sql } from "drizzle-orm";
import { FleetsyncError } from "../../shared/errors/fleetsync-error.ts";
import type { AckRequest, CursorRequest } from "../../shared/protocol/messages.ts";
import { chunkForParams } from "../db/database.ts";
import { instructions, members, syncOps, syncRuns } from "../db/schema.ts";
import type { HubContext } from "./hub-context.ts";
import { issueDeviceInstructions } from "./issue-device-instructions.ts";
import { settleRelayMember } from "./relay-blocks.ts";
import { requireMembership } from "./shares.ts";

const OP_COLUMNS = 8;

/** The device's instructions not yet acknowledged (in one share, or in all). */
function pendingInstructions(deviceId: string, share?: string) {
  return and(
    eq(instructions.deviceId, deviceId),
    eq(instructions.status, "pending"),
    share === undefined ? undefined : eq(instructions.share, share),
  );
}

/** Retires pending instructions (a new plan replaces them, the cursor moved, or the device was revoked). */
export function supersedePendingInstructions(ctx: HubContext, deviceId: string, share?: string) {
  return ctx.db
    .update(instructions)
    .set({ status: "superseded" })
    .where(pendingInstructions(deviceId, share));
}

/**
 * Signed instructions for every share where the device is behind; waits up to `waitSeconds` for one. The wait is
 * registered before the last check, so a commit that lands between the check and the wait still wakes it.
 */
export async function nextInstructions(
  ctx: HubContext,
  deviceId: string,
  waitSeconds: number,
  signal?: AbortSignal,
  /** The agent expands block-list deltas (`deltas=1`): large files it holds a version of travel as edits. */
  options: { deltas?: boolean } = {},
): Promise<string[]> {
  const deadline = ctx.now() + Math.min(waitSeconds, ctx.limits.maxWaitSeconds) * 1000;
  // One signal per request ends every wait it registered: the client going, the hub stopping, or this call returning.
  const done = new AbortController();
  const abort = AbortSignal.any(
    [signal, ctx.stopping, done.signal].filter((s): s is AbortSignal => s !== undefined),
  );
  let wake: { shares: string; woken: Promise<void> } | undefined;
  try {
    while (true) {
      const issued = await issueDeviceInstructions(ctx, deviceId, options);
      // Authenticated before any wait: a device revoked meanwhile gets nothing more from this request.
      if (issued.revokedAt !== undefined) throw revokedError(deviceId, issued.revokedAt);
      if (issued.instructions.length > 0) return issued.instructions;
      if (deadline - ctx.now() <= 0 || abort.aborted || issued.shares.length === 0) return [];
      const shares = issued.shares.join("\0");
      if (wake?.shares === shares) {
        // Registered before the check above, so nothing committed since then went unnoticed.
        await wake.woken;
        if (abort.aborted) return [];
        // Woken: check first (a fleet's wake-up finds its instructions), and register again only if that finds none.
        wake = undefined;
        continue;
      }
      // Registered before the next check (a wait for other shares lingers until `done`).
      const remaining = Math.max(0, deadline - ctx.now());
      wake = { shares, woken: ctx.notifier.wait(issued.shares, remaining, abort) };
    }
  } finally {
    done.abort(null);
  }
}

function revokedError(deviceId: string, revokedAt: number): FleetsyncError {
  return new FleetsyncError(
    "unauthenticated",
    `device ${deviceId} was revoked at ${new Date(revokedAt).toISOString()}; enroll it again with a new token`,
  );
}

export async function acknowledgeInstruction(
  ctx: HubContext,
  deviceId: string,
  instructionId: string,
  ack: AckRequest,
) {
  const [instruction] = await ctx.db
    .select()
    .from(instructions)
    .where(and(eq(instructions.id, instructionId), eq(instructions.deviceId, deviceId)));
  if (!instruction)
    throw new FleetsyncError(
      "not_found",
      `instruction ${instructionId} was not issued to device ${deviceId}`,
    );
  if (ack.reachedSeq < instruction.fromSeq || ack.reachedSeq > instruction.toSeq) {
    throw new FleetsyncError(
      "invalid",
      `field "reachedSeq": ${ack.reachedSeq} is outside the instruction's range ${instruction.fromSeq}..${instruction.toSeq}`,
    );
  }
  const { member, share } = await requireMembership(ctx, deviceId, instruction.share);
  const nowMs = ctx.now();
  const failed = ack.results.filter((r) => !r.ok);
  const memberWhere = and(eq(members.share, instruction.share), eq(members.deviceId, deviceId));
  const markAcked = ctx.db
    .update(instructions)
    .set({ status: "acked", ackedAt: nowMs })
    .where(eq(instructions.id, instructionId));

  if (ack.dryRun) {
    const [last] = await ctx.db
      .select()
      .from(syncRuns)
      .where(
        and(
          eq(syncRuns.share, instruction.share),
          eq(syncRuns.deviceId, deviceId),
          eq(syncRuns.kind, "dry-run"),
        ),
      )
      .orderBy(desc(syncRuns.id))
      .limit(1);
    const unchanged =
      last !== undefined && last.toSeq === instruction.toSeq && last.fromSeq === instruction.fromSeq;
    const remember = ctx.db.update(members).set({ dryRunSeq: instruction.toSeq }).where(memberWhere);
    if (unchanged) {
      await ctx.db.batch([markAcked, remember]);
      return { cursor: member.cursor, recorded: false, note: "no changes since last dry run" };
    }
    await ctx.db.batch([markAcked, remember, ...runStatements(ctx, deviceId, instruction, ack, "dry-run")]);
    return { cursor: member.cursor, recorded: true };
  }

  const stale = member.cursor !== instruction.fromSeq;
  await ctx.db.batch([
    markAcked,
    ...(stale
      ? []
      : [
          ctx.db
            .update(members)
            .set({
              cursor: ack.reachedSeq,
              lastApplyAt: nowMs,
              lastError: failed[0] ? `${failed[0].path}: ${failed[0].error ?? "failed"}` : null,
              lastErrorAt: failed[0] ? nowMs : null,
            })
            .where(memberWhere),
        ]),
    ...runStatements(ctx, deviceId, instruction, ack, "apply"),
  ]);
  // A relay share drops what every member now has (a member that failed something still needs it).
  // (An onApply hook's own failure is no missing content.)
  if (!stale && failed.every((r) => r.action === "hook") && share.storage === "relay") {
    await settleRelayMember(ctx, {
      share: instruction.share,
      deviceId,
      acked: { fromSeq: instruction.fromSeq, toSeq: ack.reachedSeq },
    });
  }
  return { cursor: stale ? member.cursor : ack.reachedSeq, recorded: true };
}

function runStatements(
  ctx: HubContext,
  deviceId: string,
  instruction: typeof instructions.$inferSelect,
  ack: AckRequest,
  kind: "apply" | "dry-run",
) {
  const failed = ack.results.filter((r) => !r.ok).length;
  const result = failed === 0 ? "ok" : failed === ack.results.length ? "failed" : "partial";
  const runId = sql`(select max(${syncRuns.id}) from ${syncRuns})`;
  const opRows = ack.results.map((r) => ({
    runId,
    seq: r.seq,
    path: r.path,
    action: r.action,
    bytes: r.bytes,
    ok: r.ok,
    error: r.error ?? null,
  }));
  return [
    ctx.db.insert(syncRuns).values({
      share: instruction.share,
      deviceId,
      kind,
      fromSeq: instruction.fromSeq,
      toSeq: ack.reachedSeq,
      files: ack.results.length,
      bytes: ack.results.reduce((sum, r) => sum + r.bytes, 0),
      result,
      error: ack.results.find((r) => !r.ok)?.error ?? null,
      at: ctx.now(),
    }),
    ...chunkForParams(opRows, OP_COLUMNS, ctx.limits.sqlParamLimit).map((chunk) =>
      ctx.db.insert(syncOps).values(chunk),
    ),
  ];
}

/** The agent states where it really is (at start, or after losing state); pending instructions are dropped. */
export async function setCursor(
  ctx: HubContext,
  deviceId: string,
  shareName: string,
  request: CursorRequest,
) {
  const { member, share } = await requireMembership(ctx, deviceId, shareName);
  if (member.role === "source") {
    throw new FleetsyncError(
      "forbidden",
      `device ${deviceId} is the source of "${shareName}"; sources have no cursor`,
    );
  }
  const cursor = Math.min(request.cursor, share.headSeq);
  await ctx.db.batch([
    ctx.db
      .update(members)
      .set({ cursor, dryRun: request.dryRun, dryRunSeq: 0 })
      .where(and(eq(members.share, shareName), eq(members.deviceId, deviceId))),
    supersedePendingInstructions(ctx, deviceId, shareName),
  ]);
  return { cursor, head: share.headSeq };
}
