// Instructions for receiving members: plan and sign, hand out by long-poll, record acks and cursors.
import { and, asc, desc, eq, gt, lte, ne, sql } from "drizzle-orm";
import { FleetsyncError } from "../../shared/errors/fleetsync-error.ts";
import { INSTRUCTION_TTL_SECONDS, signInstruction } from "../../shared/instructions/instruction.ts";
import type { AckRequest, CursorRequest } from "../../shared/protocol/messages.ts";
import { chunkForParams } from "../db/database.ts";
import { devices, entries, instructions, members, shares, syncOps, syncRuns } from "../db/schema.ts";
import { rowToEntry } from "./entry-rows.ts";
import type { HubContext } from "./hub-context.ts";
import { planInstruction } from "./plan-instruction.ts";
import { requireMembership } from "./shares.ts";

/** A pending instruction this close to expiry is re-signed rather than handed out again. */
const REISSUE_MARGIN_MS = 60_000;
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

type Membership = { member: typeof members.$inferSelect; share: typeof shares.$inferSelect };

async function receivingMemberships(ctx: HubContext, deviceId: string): Promise<Membership[]> {
  const rows = await ctx.db
    .select({ member: members, share: shares })
    .from(members)
    .innerJoin(shares, eq(shares.name, members.share))
    .where(and(eq(members.deviceId, deviceId), ne(members.role, "source")));
  return rows;
}

function isBehind({ member, share }: Membership): boolean {
  const reached = member.dryRun ? Math.max(member.cursor, member.dryRunSeq) : member.cursor;
  return reached < share.headSeq;
}

async function instructionFor(
  ctx: HubContext,
  deviceId: string,
  { member, share }: Membership,
): Promise<string> {
  const nowMs = ctx.now();
  const pending = await ctx.db.select().from(instructions).where(pendingInstructions(deviceId, share.name));
  const reusable = pending.find(
    (p) => p.fromSeq === member.cursor && p.expiresAt - REISSUE_MARGIN_MS > nowMs,
  );
  if (reusable) return reusable.jws;

  const limit = ctx.limits.maxOpsPerInstruction;
  const rows = await ctx.db
    .select()
    .from(entries)
    .where(
      and(eq(entries.share, share.name), gt(entries.seq, member.cursor), lte(entries.seq, share.headSeq)),
    )
    .orderBy(asc(entries.seq))
    .limit(limit + 1);
  const plan = planInstruction({
    entries: rows.map(rowToEntry),
    complete: rows.length <= limit,
    cursor: member.cursor,
    head: share.headSeq,
    deletes: share.deletes,
    maxOps: limit,
    maxBlockRefs: ctx.limits.maxBlockRefsPerInstruction,
  });
  const id = crypto.randomUUID();
  const jws = await signInstruction(
    ctx.identity.privateKey,
    ctx.identity.kid,
    { hubId: ctx.identity.hubId, deviceId, instructionId: id, nowSeconds: Math.floor(nowMs / 1000) },
    { share: share.name, ...plan },
  );
  await ctx.db.batch([
    supersedePendingInstructions(ctx, deviceId, share.name),
    ctx.db.insert(instructions).values({
      id,
      deviceId,
      share: share.name,
      fromSeq: plan.fromSeq,
      toSeq: plan.toSeq,
      jws,
      opCount: plan.ops.length,
      bytes: plan.ops.reduce((sum, op) => sum + (op.type === "file" ? op.size : 0), 0),
      status: "pending",
      createdAt: nowMs,
      expiresAt: nowMs + INSTRUCTION_TTL_SECONDS * 1000,
    }),
  ]);
  return jws;
}

/** Signed instructions for every share where the device is behind; waits up to `waitSeconds` for one. */
export async function nextInstructions(
  ctx: HubContext,
  deviceId: string,
  waitSeconds: number,
  signal?: AbortSignal,
): Promise<string[]> {
  const deadline = ctx.now() + Math.min(waitSeconds, ctx.limits.maxWaitSeconds) * 1000;
  const abort = AbortSignal.any([signal, ctx.stopping].filter((s): s is AbortSignal => s !== undefined));
  while (true) {
    const memberships = await receivingMemberships(ctx, deviceId);
    const behind = memberships.filter(isBehind);
    if (behind.length > 0) return Promise.all(behind.map((m) => instructionFor(ctx, deviceId, m)));
    const remaining = deadline - ctx.now();
    if (remaining <= 0 || abort.aborted || memberships.length === 0) return [];
    await ctx.notifier.wait(
      memberships.map((m) => m.share.name),
      remaining,
      abort,
    );
    // Authenticated before the wait: a device revoked meanwhile gets nothing more from this request.
    await requireNotRevoked(ctx, deviceId);
  }
}

async function requireNotRevoked(ctx: HubContext, deviceId: string): Promise<void> {
  const [device] = await ctx.db
    .select({ revokedAt: devices.revokedAt })
    .from(devices)
    .where(eq(devices.id, deviceId));
  if (device && device.revokedAt !== null) {
    throw new FleetsyncError(
      "unauthenticated",
      `device ${deviceId} was revoked at ${new Date(device.revokedAt).toISOString()}; enroll it again with a new token`,
    );
  }
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
  const { member } = await requireMembership(ctx, deviceId, instruction.share);
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
