// A fingerprint of everything the dashboard shows, in one query: when it changes, open pages refresh.
import { sql } from "drizzle-orm";
import { toHex } from "../../shared/blocks/hex.ts";
import { ONLINE_WINDOW_MS } from "./device-presence.ts";
import type { HubContext } from "./hub-context.ts";

/**
 * One statement on purpose: on Workers every D1 query of a long-lived event stream counts against the
 * request's query budget. Online-ness is part of it, so a device going silent changes it too.
 */
export async function readStateVersion(ctx: HubContext): Promise<string> {
  const onlineSince = ctx.now() - ONLINE_WINDOW_MS;
  const [row] = await ctx.db
    .select({
      shares: sql<string>`(select group_concat(name || ':' || head_seq || ':' || approval, ',') from (select * from shares order by name))`,
      members: sql<string>`(select group_concat(share || ':' || device_id || ':' || role || ':' || cursor || ':' || coalesce(last_error, ''), ',') from (select * from members order by share, device_id))`,
      devices: sql<string>`(select group_concat(id || ':' || name || ':' || approval || ':' || coalesce(revoked_at, 0) || ':' || coalesce(agent_version, '') || ':' || (coalesce(last_seen_at, 0) >= ${onlineSince}), ',') from (select * from devices order by id))`,
      runs: sql<number>`(select coalesce(max(id), 0) from sync_runs)`,
      tokens: sql<string>`(select count(*) || ':' || coalesce(max(used_at), 0) || ':' || coalesce(max(revoked_at), 0) from enrolment_tokens)`,
      metricsTokens: sql<string>`(select count(*) || ':' || coalesce(max(revoked_at), 0) from access_tokens)`,
    })
    .from(sql`(select 1)`);
  const text = JSON.stringify(row ?? {});
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return toHex(new Uint8Array(digest)).slice(0, 32);
}
