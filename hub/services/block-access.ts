// Which device may move which blocks: uploads only from sending members, downloads only of their shares' blocks.
import { and, eq, inArray, sql } from "drizzle-orm";
import { FleetsyncError } from "../../shared/errors/fleetsync-error.ts";
import { chunkForParams } from "../db/database.ts";
import { members, shareBlocks, shares } from "../db/schema.ts";
import type { HubContext } from "./hub-context.ts";

const SHARE_BLOCK_COLUMNS = 3;

/** 403 unless the device is a source or peer of some share (only those ever upload content). */
export async function requireBlockUpload(ctx: HubContext, deviceId: string): Promise<void> {
  const [sending] = await ctx.db
    .select({ share: members.share })
    .from(members)
    .where(and(eq(members.deviceId, deviceId), inArray(members.role, ["source", "peer"])))
    .limit(1);
  if (!sending) {
    throw new FleetsyncError(
      "forbidden",
      `device ${deviceId} is not a source or peer of any share, so it may not upload blocks`,
    );
  }
}

/**
 * 403 naming the first hash no share the device receives (as replica or peer) references. Otherwise, for the hashes
 * only `relay` shares reference (the hub may have dropped those), the relay shares through which the device reads each.
 */
export async function requireBlockRead(
  ctx: HubContext,
  deviceId: string,
  hashes: string[],
): Promise<{ relayOnly: Map<string, string[]> }> {
  const readable = new Set<string>();
  const relay = new Map<string, string[]>();
  const full = new Set<string>();
  // Three parameters besides the hashes: the device and the two receiving roles (D1 binds 100 at most).
  for (const chunk of chunkForParams([...new Set(hashes)], 1, ctx.limits.sqlParamLimit - 3)) {
    const rows = await ctx.db
      .selectDistinct({ hash: shareBlocks.hash, share: shareBlocks.share, storage: shares.storage })
      .from(shareBlocks)
      .innerJoin(members, eq(members.share, shareBlocks.share))
      .innerJoin(shares, eq(shares.name, shareBlocks.share))
      .where(
        and(
          eq(members.deviceId, deviceId),
          inArray(members.role, ["replica", "peer"]),
          inArray(shareBlocks.hash, chunk),
        ),
      );
    for (const row of rows) {
      readable.add(row.hash);
      if (row.storage === "relay") relay.set(row.hash, [...(relay.get(row.hash) ?? []), row.share]);
      else full.add(row.hash);
    }
  }
  const refused = hashes.find((hash) => !readable.has(hash));
  if (refused !== undefined) {
    throw new FleetsyncError(
      "forbidden",
      `device ${deviceId} may not read block ${refused}: no share it receives (as replica or peer) references it`,
    );
  }
  for (const hash of full) relay.delete(hash);
  return { relayOnly: relay };
}

/** Statements for a commit's batch: these blocks are referenced by `share` as of `nowMs`. */
export function shareBlockStatements(ctx: HubContext, share: string, hashes: string[], nowMs: number) {
  const rows = [...new Set(hashes)].map((hash) => ({ share, hash, seenAt: nowMs }));
  return chunkForParams(rows, SHARE_BLOCK_COLUMNS, ctx.limits.sqlParamLimit).map((chunk) =>
    ctx.db
      .insert(shareBlocks)
      .values(chunk)
      .onConflictDoUpdate({
        target: [shareBlocks.share, shareBlocks.hash],
        set: { seenAt: sql`excluded.seen_at` },
      }),
  );
}
