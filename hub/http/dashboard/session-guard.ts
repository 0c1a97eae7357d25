// Dashboard request guards: refuse cross-origin state changes (CSRF), and require a live login session.
import type { Context, MiddlewareHandler } from "hono";
import { deleteCookie, getSignedCookie, setSignedCookie } from "hono/cookie";
import { FleetsyncError } from "../../../shared/errors/fleetsync-error.ts";
import { isSessionValid, SESSION_TTL_MS, sessionCookieKey } from "../../services/dashboard-sessions.ts";
import type { HubContext } from "../../services/hub-context.ts";

export const SESSION_COOKIE = "fleetsync_session";

export type DashboardEnv = { Variables: { sessionId: string } };

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** The host the browser addressed: what a same-origin Origin header must name. */
function requestHost(c: Context): string {
  return c.req.header("host") ?? new URL(c.req.url).host;
}

/**
 * A state-changing request must come from a page of this hub: its Origin names this host, or (a browser that
 * sends no Origin) Sec-Fetch-Site says same-origin. Anything else is refused with 403 before it is read.
 */
export const refuseCrossOrigin: MiddlewareHandler = async (c, next) => {
  if (SAFE_METHODS.has(c.req.method)) return next();
  const origin = c.req.header("origin");
  if (origin !== undefined && origin !== "null") {
    let host: string | undefined;
    try {
      host = new URL(origin).host;
    } catch {
      host = undefined;
    }
    if (host === requestHost(c)) return next();
    throw new FleetsyncError(
      "forbidden",
      `cross-origin ${c.req.method} refused: the request came from ${origin}, not from this hub's dashboard`,
    );
  }
  if (c.req.header("sec-fetch-site") === "same-origin") return next();
  throw new FleetsyncError(
    "forbidden",
    `${c.req.method} ${c.req.path} refused: no Origin header shows it came from this hub's dashboard`,
  );
};

export async function readSession(ctx: HubContext, c: Context): Promise<string | undefined> {
  const id = await getSignedCookie(c, await sessionCookieKey(ctx), SESSION_COOKIE);
  if (!id) return undefined;
  return (await isSessionValid(ctx, id)) ? id : undefined;
}

export async function writeSessionCookie(ctx: HubContext, c: Context, id: string): Promise<void> {
  await setSignedCookie(c, SESSION_COOKIE, id, await sessionCookieKey(ctx), {
    httpOnly: true,
    sameSite: "Strict",
    path: "/",
    maxAge: Math.floor(SESSION_TTL_MS / 1000),
    secure: isHttps(c),
  });
}

export function clearSessionCookie(c: Context): void {
  deleteCookie(c, SESSION_COOKIE, { path: "/", secure: isHttps(c) });
}

function isHttps(c: Context): boolean {
  return new URL(c.req.url).protocol === "https:" || c.req.header("x-forwarded-proto") === "https";
}

/** Pages send a person without a session to /login; everything else answers 401. */
export function requireSession(ctx: HubContext): MiddlewareHandler<DashboardEnv> {
  return async (c, next) => {
    const id = await readSession(ctx, c);
    if (!id) {
      if (c.req.method === "GET" && c.req.path !== "/events") return c.redirect("/login", 302);
      throw new FleetsyncError("unauthenticated", "log in to the dashboard first (GET /login)");
    }
    c.set("sessionId", id);
    await next();
  };
}
