// Deletes blocks no share references any more (after a grace period covering uploads and instructions in flight), and relay shares' acknowledged ones.
import { sql } from "drizzle-orm";
import { shareBlocks } from "../db/schema.ts";
import type { HubContext } from "./hub-context.ts";
import { dropRelayBlocks, relayShareBlocks } from "./relay-blocks.ts";

export const DEFAULT_GC_GRACE_MS = 60 * 60 * 1000;

export async function collectGarbage(ctx: HubContext, graceMs = DEFAULT_GC_GRACE_MS) {
  const cutoff = ctx.now() - graceMs;
  // A share keeps a block it no longer references for the grace period: replicas may still be applying it.
  await ctx.db.run(
    sql`delete from ${shareBlocks} where ${shareBlocks.seenAt} < ${cutoff} and (${shareBlocks.share}, ${shareBlocks.hash}) not in (select e.share, j.value from entries e, json_each(e.blocks) j where e.type = 'file')`,
  );
  const referenced = async () => {
    const rows = await ctx.db.selectDistinct({ hash: shareBlocks.hash }).from(shareBlocks);
    return new Set(rows.map((r) => r.hash));
  };
  const unreferenced = await ctx.blockStore.deleteUnreferenced(referenced, cutoff);
  // Relay shares: what every member acknowledged since (changed and removed files, members that left) goes too.
  const relayed = await dropRelayBlocks(ctx, await relayShareBlocks(ctx));
  const deleted = unreferenced + relayed;
  if (deleted > 0) ctx.log.info("garbage-collected blocks", { deleted, relayed });
  return { deleted };
}
