// Deletes blocks that no current entry references (after a grace period covering uploads in flight).
import { sql } from "drizzle-orm";
import type { HubContext } from "./hub-context.ts";

export const DEFAULT_GC_GRACE_MS = 60 * 60 * 1000;

export async function collectGarbage(ctx: HubContext, graceMs = DEFAULT_GC_GRACE_MS) {
  const referenced = async () => {
    const rows = await ctx.db.all<{ hash: string }>(
      sql`select distinct j.value as hash from entries e, json_each(e.blocks) j where e.type = 'file'`,
    );
    return new Set(rows.map((r) => r.hash));
  };
  const deleted = await ctx.blockStore.deleteUnreferenced(referenced, ctx.now() - graceMs);
  if (deleted > 0) ctx.log.info("garbage-collected blocks", { deleted });
  return { deleted };
}
