// The `relay` storage policy's drop rule: a block goes from the store once every member that needs it acknowledged.
import { and, eq, min, ne, sql } from "drizzle-orm";
import { members, relayWants, shares } from "../db/schema.ts";
import type { HubContext } from "./hub-context.ts";

/** Candidate hashes per statement: bound as one JSON value (no parameter per hash, so D1's 100 never bind). */
const CANDIDATES_PER_QUERY = 1000;

/**
 * Drops those of `hashes` that no share still needs stored: every share referencing one is a `relay` share, every
 * receiving member of it has acknowledged past each current entry that references it (a member whose last apply
 * failed counts as having acknowledged nothing: its cursor moved past what it failed), and no member waits for it
 * (a re-upload request). The "which share references which block" rows stay, so a newcomer may still ask for it
 * (and gets a re-upload request instead of a refusal). Returns how many blocks went.
 */
export async function dropRelayBlocks(ctx: HubContext, hashes: Iterable<string>): Promise<number> {
  const unique = [...new Set(hashes)];
  let dropped = 0;
  for (let i = 0; i < unique.length; i += CANDIDATES_PER_QUERY) {
    const chunk = JSON.stringify(unique.slice(i, i + CANDIDATES_PER_QUERY));
    // What still holds a candidate, each part read once per query: a full share referencing it, a member's
    // re-upload request, or a current entry newer than the cursor of a relay share's slowest receiving member.
    const rows = await ctx.db.all<{ hash: string }>(sql`
      with cand(hash) as (select value from json_each(${chunk})),
      slowest(share, cursor) as (
        select s.name, (select min(case when m.last_error is null then m.cursor else 0 end)
          from members m where m.share = s.name and m.role <> 'source')
        from shares s where s.storage = 'relay'
      ),
      held(hash) as (
        select sb.hash from share_blocks sb join shares s on s.name = sb.share
          where s.storage <> 'relay' and sb.hash in (select hash from cand)
        union
        select w.hash from relay_wants w
          join members wm on wm.share = w.share and wm.device_id = w.device_id
          where w.hash in (select hash from cand)
        union
        select j.value from slowest t join entries e on e.share = t.share and e.seq > t.cursor, json_each(e.blocks) j
          where e.type = 'file' and j.value in (select hash from cand)
      )
      select c.hash as hash from cand c
      where exists (select 1 from share_blocks sb where sb.hash = c.hash)
        and c.hash not in (select hash from held)`);
    const doomed = rows.map((r) => r.hash);
    if (doomed.length > 0) dropped += await ctx.blockStore.deleteBlocks(doomed);
  }
  return dropped;
}

/** Whether `share` keeps its blocks only until every member acknowledged them. */
export async function isRelayShare(ctx: HubContext, share: string): Promise<boolean> {
  const [row] = await ctx.db.select({ storage: shares.storage }).from(shares).where(eq(shares.name, share));
  return row?.storage === "relay";
}

/**
 * A receiving member of a relay share says it is whole (an ack with nothing failed, or "no error any more"): its
 * re-upload requests are settled, and the blocks they and the acknowledged range `acked` held are dropped where
 * nobody else needs them. Only entries every receiving member has passed are looked at, so the acks of a first
 * sync cost nothing until the slowest member's.
 */
export async function settleRelayMember(
  ctx: HubContext,
  input: { share: string; deviceId: string; acked?: { fromSeq: number; toSeq: number } },
): Promise<number> {
  if (!(await isRelayShare(ctx, input.share))) return 0;
  const settled = await ctx.db
    .delete(relayWants)
    .where(and(eq(relayWants.share, input.share), eq(relayWants.deviceId, input.deviceId)))
    .returning({ hash: relayWants.hash });
  const candidates = settled.map((r) => r.hash);
  if (input.acked) {
    const [slowest] = await ctx.db
      .select({
        cursor: min(sql<number>`case when ${members.lastError} is null then ${members.cursor} else 0 end`),
      })
      .from(members)
      .where(and(eq(members.share, input.share), ne(members.role, "source")));
    const toSeq = Math.min(input.acked.toSeq, Number(slowest?.cursor ?? input.acked.toSeq));
    if (toSeq > input.acked.fromSeq) {
      const rows = await ctx.db.all<{ hash: string }>(sql`
        select distinct j.value as hash from entries e, json_each(e.blocks) j
        where e.share = ${input.share} and e.type = 'file' and e.seq > ${input.acked.fromSeq} and e.seq <= ${toSeq}`);
      for (const row of rows) candidates.push(row.hash);
    }
  }
  const dropped = await dropRelayBlocks(ctx, candidates);
  if (dropped > 0) ctx.log.info("relay share: dropped acknowledged blocks", { share: input.share, dropped });
  return dropped;
}

/** Every block a relay share references: what the periodic collection re-examines (changed and removed files). */
export async function relayShareBlocks(ctx: HubContext): Promise<string[]> {
  const rows = await ctx.db.all<{ hash: string }>(sql`
    select distinct sb.hash from share_blocks sb join shares s on s.name = sb.share where s.storage = 'relay'`);
  return rows.map((r) => r.hash);
}
