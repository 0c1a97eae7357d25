// How far each receiving member is behind in files and bytes: the paths changed since its cursor.
import { and, count, eq, gt, ne, sql } from "drizzle-orm";
import { entries, members } from "../db/schema.ts";
import type { HubContext } from "./hub-context.ts";

/** Keyed by `share\u0000deviceId`; members that lack nothing are absent. */
export async function memberLags(ctx: HubContext) {
  const rows = await ctx.db
    .select({
      share: members.share,
      deviceId: members.deviceId,
      files: count(entries.path),
      bytes: sql<number>`coalesce(sum(case when ${entries.type} = 'file' then ${entries.size} else 0 end), 0)`,
    })
    .from(members)
    .innerJoin(entries, and(eq(entries.share, members.share), gt(entries.seq, members.cursor)))
    .where(ne(members.role, "source"))
    .groupBy(members.share, members.deviceId);
  return new Map(
    rows.map((r) => [`${r.share}\u0000${r.deviceId}`, { files: r.files, bytes: Number(r.bytes) }]),
  );
}
