// Signed instructions for many devices at once: bulk reads, one plan per share and cursor, one signature per device, one write.
import { and, asc, eq, gt, inArray, isNotNull, lte, ne, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { INSTRUCTION_TTL_SECONDS, signInstruction } from "../../shared/instructions/instruction.ts";
import { chunkForParams } from "../db/database.ts";
import { devices, entries, instructions, members, shares } from "../db/schema.ts";
import { rowBlocksDelta, rowToEntry } from "./entry-rows.ts";
import type { HubContext } from "./hub-context.ts";
import { type Plan, planInstruction } from "./plan-instruction.ts";

/** A pending instruction this close to expiry is re-signed rather than handed out again. */
const REISSUE_MARGIN_MS = 60_000;

/** What one device gets: its signed instructions (empty when it is up to date) and the shares it receives. */
export type IssuedInstructions = {
  instructions: string[];
  /** The shares the device receives (the ones a long-poll waits on). */
  shares: string[];
  /** Set when the device was revoked: it gets nothing. */
  revokedAt?: number;
};

type Membership = { member: typeof members.$inferSelect; share: typeof shares.$inferSelect };

function isBehind({ member, share }: Membership): boolean {
  const reached = member.dryRun ? Math.max(member.cursor, member.dryRunSeq) : member.cursor;
  return reached < share.headSeq;
}

/**
 * For every device, an instruction for each share where it is behind: a pending one from its own cursor is handed
 * out again, the rest are planned (once per share, cursor and head, however many members wait there), signed for
 * that device (the JWS names it and has its own id) and recorded in one atomic batch that retires what they replace.
 */
export async function issueInstructions(
  ctx: HubContext,
  deviceIds: string[],
  /** Devices whose agents expand `blocksFrom` (they asked with `deltas=1`); the others get whole block lists. */
  options: { deltaDevices?: ReadonlySet<string> } = {},
): Promise<Map<string, IssuedInstructions>> {
  const ids = [...new Set(deviceIds)];
  const paramLimit = ctx.limits.sqlParamLimit;
  const issued = new Map<string, IssuedInstructions>(ids.map((id) => [id, { instructions: [], shares: [] }]));

  for (const chunk of chunkForParams(ids, 1, paramLimit)) {
    const revoked = await ctx.db
      .select({ id: devices.id, revokedAt: devices.revokedAt })
      .from(devices)
      .where(and(inArray(devices.id, chunk), isNotNull(devices.revokedAt)));
    for (const row of revoked) if (row.revokedAt !== null) issued.get(row.id)!.revokedAt = row.revokedAt;
  }
  const live = ids.filter((id) => issued.get(id)!.revokedAt === undefined);
  const behind: Membership[] = [];
  for (const chunk of chunkForParams(live, 1, paramLimit - 1)) {
    const rows = await ctx.db
      .select({ member: members, share: shares })
      .from(members)
      .innerJoin(shares, eq(shares.name, members.share))
      .where(and(inArray(members.deviceId, chunk), ne(members.role, "source")));
    for (const row of rows) {
      issued.get(row.member.deviceId)!.shares.push(row.share.name);
      if (isBehind(row)) behind.push(row);
    }
  }
  if (behind.length === 0) return issued;

  const nowMs = ctx.now();
  // Pending instructions still good for a while, by device, share and the cursor they start from.
  const usable = new Map<string, string>();
  const key = (deviceId: string, share: string, fromSeq: number) =>
    JSON.stringify([deviceId, share, fromSeq]);
  const behindDevices = [...new Set(behind.map((m) => m.member.deviceId))];
  for (const chunk of chunkForParams(behindDevices, 1, paramLimit - 1)) {
    const pending = await ctx.db
      .select()
      .from(instructions)
      .where(and(inArray(instructions.deviceId, chunk), eq(instructions.status, "pending")));
    for (const p of pending) {
      if (p.expiresAt - REISSUE_MARGIN_MS > nowMs) usable.set(key(p.deviceId, p.share, p.fromSeq), p.jws);
    }
  }
  const reusable = new Map<Membership, string>();
  for (const m of behind) {
    const jws = usable.get(key(m.member.deviceId, m.share.name, m.member.cursor));
    if (jws !== undefined) reusable.set(m, jws);
  }

  const plans = new Map<string, Plan>();
  const planFor = async ({ member, share }: Membership): Promise<Plan> => {
    const withDeltas = options.deltaDevices?.has(member.deviceId) ?? false;
    const key = JSON.stringify([share.name, member.cursor, share.headSeq, share.deletes, withDeltas]);
    const known = plans.get(key);
    if (known) return known;
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
      entries: rows.map((row) => ({ ...rowToEntry(row), blocksDelta: rowBlocksDelta(row) })),
      complete: rows.length <= limit,
      cursor: member.cursor,
      head: share.headSeq,
      deletes: share.deletes,
      maxOps: limit,
      maxBlockRefs: ctx.limits.maxBlockRefsPerInstruction,
      withDeltas,
    });
    plans.set(key, plan);
    return plan;
  };

  const fresh: { membership: Membership; plan: Plan }[] = [];
  for (const m of behind) if (!reusable.has(m)) fresh.push({ membership: m, plan: await planFor(m) });
  const nowSeconds = Math.floor(nowMs / 1000);
  const rows = await Promise.all(
    fresh.map(async ({ membership: { member, share }, plan }) => {
      const id = crypto.randomUUID();
      const jws = await signInstruction(
        ctx.identity.privateKey,
        ctx.identity.kid,
        { hubId: ctx.identity.hubId, deviceId: member.deviceId, instructionId: id, nowSeconds },
        { share: share.name, ...plan },
      );
      return {
        id,
        deviceId: member.deviceId,
        share: share.name,
        fromSeq: plan.fromSeq,
        toSeq: plan.toSeq,
        jws,
        opCount: plan.ops.length,
        bytes: plan.ops.reduce((sum, op) => sum + (op.type === "file" ? op.size : 0), 0),
        status: "pending" as const,
        createdAt: nowMs,
        expiresAt: nowMs + INSTRUCTION_TTL_SECONDS * 1000,
      };
    }),
  );
  const [first, ...rest] = recordStatements(ctx, rows);
  if (first) await ctx.db.batch([first, ...rest]);

  const signed = new Map(rows.map((row, i) => [fresh[i]!.membership, row.jws]));
  for (const m of behind) {
    issued.get(m.member.deviceId)!.instructions.push(reusable.get(m) ?? signed.get(m)!);
  }
  return issued;
}

/** JSON bound to one statement at most: well inside D1's 2 MB per value, however many instructions a round signs. */
const MAX_JSON_PARAM_CHARS = 256 * 1024;

/** Splits items so each chunk's JSON stays under MAX_JSON_PARAM_CHARS (one item alone may exceed it). */
function chunkByJsonSize<T>(items: T[]): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  let chars = 0;
  for (const item of items) {
    const size = JSON.stringify(item).length + 1;
    if (current.length > 0 && chars + size > MAX_JSON_PARAM_CHARS) {
      chunks.push(current);
      current = [];
      chars = 0;
    }
    current.push(item);
    chars += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/**
 * Retires the pending instructions the new ones replace, then inserts the new ones. The rows travel as one JSON
 * parameter per statement (read back with json_each): a thousand rows are a handful of parameters to bind, not
 * twelve thousand for the query builder to wrap one by one.
 */
function recordStatements(
  ctx: HubContext,
  rows: (typeof instructions.$inferInsert & { deviceId: string; share: string })[],
): BatchItem<"sqlite">[] {
  const devicesByShare = new Map<string, string[]>();
  for (const row of rows) {
    const list = devicesByShare.get(row.share) ?? [];
    list.push(row.deviceId);
    devicesByShare.set(row.share, list);
  }
  const retire = [...devicesByShare].flatMap(([share, deviceIds]) =>
    chunkByJsonSize(deviceIds).map((chunk) =>
      ctx.db
        .update(instructions)
        .set({ status: "superseded" })
        .where(
          and(
            eq(instructions.status, "pending"),
            eq(instructions.share, share),
            inArray(instructions.deviceId, sql`(select value from json_each(${JSON.stringify(chunk)}))`),
          ),
        ),
    ),
  );
  // Every column in the table's order (insert … select names them all), acked_at still unset.
  const insert = chunkByJsonSize(rows).map((chunk) =>
    ctx.db.insert(instructions).select(
      sql`select json_extract(value, '$.id'), json_extract(value, '$.deviceId'), json_extract(value, '$.share'),
        json_extract(value, '$.fromSeq'), json_extract(value, '$.toSeq'), json_extract(value, '$.jws'),
        json_extract(value, '$.opCount'), json_extract(value, '$.bytes'), json_extract(value, '$.status'),
        json_extract(value, '$.createdAt'), json_extract(value, '$.expiresAt'), null
      from json_each(${JSON.stringify(chunk)})`,
    ),
  );
  return [...retire, ...insert];
}
