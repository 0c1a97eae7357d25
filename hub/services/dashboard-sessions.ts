// Dashboard login sessions: the admin token buys a random session id; the hub keeps its hash and expiry.
import { and, eq, gt, lt } from "drizzle-orm";
import { toHex } from "../../shared/blocks/hex.ts";
import { dashboardSessions, hubSettings } from "../db/schema.ts";
import { auditStatement } from "./audit.ts";
import { authenticateAdmin } from "./authenticate.ts";
import type { HubContext } from "./hub-context.ts";
import { hashSecret, readSetting } from "./initialize-hub.ts";

export const SESSION_TTL_MS = 12 * 3600_000;
const COOKIE_KEY_SETTING = "dashboard_cookie_key";

/** The HMAC secret session cookies are signed with: made once per hub, shared by every hub process. */
export async function sessionCookieKey(ctx: HubContext): Promise<string> {
  const existing = await readSetting(ctx.db, COOKIE_KEY_SETTING);
  if (existing) return existing;
  await ctx.db
    .insert(hubSettings)
    .values({ key: COOKIE_KEY_SETTING, value: toHex(crypto.getRandomValues(new Uint8Array(32))) })
    .onConflictDoNothing();
  return (await readSetting(ctx.db, COOKIE_KEY_SETTING))!;
}

/** Checks the admin token (throws the same 401 the admin API gives) and opens a session. */
export async function logIn(ctx: HubContext, adminToken: string) {
  await authenticateAdmin(ctx, `Bearer ${adminToken}`);
  const id = toHex(crypto.getRandomValues(new Uint8Array(32)));
  const nowMs = ctx.now();
  const expiresAt = nowMs + SESSION_TTL_MS;
  await ctx.db.batch([
    ctx.db.delete(dashboardSessions).where(lt(dashboardSessions.expiresAt, nowMs)),
    ctx.db.insert(dashboardSessions).values({ idHash: await hashSecret(id), createdAt: nowMs, expiresAt }),
    auditStatement(ctx, "admin", "dashboard.login", "dashboard"),
  ]);
  return { id, expiresAt };
}

export async function isSessionValid(ctx: HubContext, id: string): Promise<boolean> {
  const rows = await ctx.db
    .select({ expiresAt: dashboardSessions.expiresAt })
    .from(dashboardSessions)
    .where(
      and(eq(dashboardSessions.idHash, await hashSecret(id)), gt(dashboardSessions.expiresAt, ctx.now())),
    );
  return rows.length > 0;
}

export async function logOut(ctx: HubContext, id: string): Promise<void> {
  await ctx.db.delete(dashboardSessions).where(eq(dashboardSessions.idHash, await hashSecret(id)));
}
