// Re-upload requests of `relay` shares: recorded when a member asks for a dropped block, handed to the members that hold it.
import { and, asc, eq, gt, ne, sql } from "drizzle-orm";
import { FleetsyncError } from "../../shared/errors/fleetsync-error.ts";
import type { WantedBlocksResponse } from "../../shared/protocol/wanted-blocks.ts";
import { chunkForParams } from "../db/database.ts";
import { members, relayWants } from "../db/schema.ts";
import type { HubContext } from "./hub-context.ts";
import { requireMembership } from "./shares.ts";

const WANT_COLUMNS = 4;
/** Blocks named per answer; the holder uploads them and asks again for the rest. */
export const MAX_WANTED_PER_ANSWER = 256;

/** The notifier key a relay share's holders wait on (":" never occurs in a share name, so it meets no share). */
export const wantedKey = (share: string) => `wanted:${share}`;

/**
 * Records that `deviceId` needs these dropped blocks of these relay shares, and wakes the shares' holders. Asked
 * again, a request only has its time renewed.
 */
export async function recordRelayWants(
  ctx: HubContext,
  input: { deviceId: string; wants: { share: string; hash: string }[] },
): Promise<void> {
  if (input.wants.length === 0) return;
  const askedAt = ctx.now();
  const rows = input.wants.map((w) => ({ ...w, deviceId: input.deviceId, askedAt }));
  const [first, ...rest] = chunkForParams(rows, WANT_COLUMNS, ctx.limits.sqlParamLimit).map((chunk) =>
    ctx.db
      .insert(relayWants)
      .values(chunk)
      .onConflictDoUpdate({
        target: [relayWants.share, relayWants.hash, relayWants.deviceId],
        set: { askedAt: sql`excluded.asked_at` },
      }),
  );
  if (first) await ctx.db.batch([first, ...rest]);
  const shares = [...new Set(input.wants.map((w) => w.share))];
  for (const share of shares) await ctx.notifier.notify(wantedKey(share));
  ctx.log.info("relay share: asked holders to re-upload dropped blocks", {
    device: input.deviceId,
    shares,
    blocks: input.wants.length,
  });
}

/**
 * What a sending member of `share` is asked to upload again: blocks other members wait for that the hub does not
 * hold, each with a current path that has it. Waits up to `waitSeconds` for a request when there is none.
 */
export async function wantedBlocks(
  ctx: HubContext,
  input: { deviceId: string; share: string; waitSeconds: number; signal?: AbortSignal },
): Promise<WantedBlocksResponse> {
  const { member, share } = await requireMembership(ctx, input.deviceId, input.share);
  if (member.role === "replica") {
    throw new FleetsyncError(
      "forbidden",
      `device ${input.deviceId} is a replica of "${input.share}": only its sources and peers upload blocks`,
    );
  }
  if (share.storage !== "relay") return { storage: share.storage, blocks: [] };
  const deadline = ctx.now() + Math.min(input.waitSeconds, ctx.limits.maxWaitSeconds) * 1000;
  const done = new AbortController();
  const abort = AbortSignal.any(
    [input.signal, ctx.stopping, done.signal].filter((s): s is AbortSignal => s !== undefined),
  );
  try {
    while (true) {
      // Registered before the check, so a request recorded between the check and the wait still wakes it.
      const woken = ctx.notifier.wait([wantedKey(input.share)], Math.max(0, deadline - ctx.now()), abort);
      const blocks = await openWants(ctx, input.share, input.deviceId);
      if (blocks.length > 0 || deadline - ctx.now() <= 0 || abort.aborted)
        return { storage: "relay", blocks };
      await woken;
      if (abort.aborted) return { storage: "relay", blocks: [] };
    }
  } finally {
    done.abort(null);
  }
}

/** Requests of current members other than `asker` whose block the store lacks, with a path of the share that has it. */
async function openWants(ctx: HubContext, share: string, asker: string) {
  // Requests stay until their member settles, so many may already be re-uploaded: page through them (in hash
  // order) until enough are absent from the store, so the ones not yet served are never hidden behind them.
  const page = MAX_WANTED_PER_ANSWER * 4;
  const absent: string[] = [];
  for (let after = ""; absent.length < MAX_WANTED_PER_ANSWER; ) {
    const rows = await ctx.db
      .selectDistinct({ hash: relayWants.hash })
      .from(relayWants)
      .innerJoin(members, and(eq(members.share, relayWants.share), eq(members.deviceId, relayWants.deviceId)))
      .where(and(eq(relayWants.share, share), ne(relayWants.deviceId, asker), gt(relayWants.hash, after)))
      .orderBy(asc(relayWants.hash))
      .limit(page);
    if (rows.length === 0) break;
    const stored = await ctx.blockStore.has(rows.map((r) => r.hash));
    for (const { hash } of rows) if (!stored.has(hash)) absent.push(hash);
    if (rows.length < page) break;
    after = rows[rows.length - 1]!.hash;
  }
  if (absent.length === 0) return [];
  const paths = await ctx.db.all<{ hash: string; path: string }>(sql`
    select j.value as hash, min(e.path) as path from entries e, json_each(e.blocks) j
    where e.share = ${share} and e.type = 'file'
      and j.value in (select value from json_each(${JSON.stringify(absent)}))
    group by j.value`);
  return paths.slice(0, MAX_WANTED_PER_ANSWER).map(({ hash, path }) => ({ hash, path }));
}
