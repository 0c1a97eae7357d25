/** @jsxImportSource hono/jsx */
// GET /login, POST /login (admin token → session cookie) and POST /logout (the hub forgets the session).
import { Hono } from "hono";
import { FleetsyncError } from "../../../shared/errors/fleetsync-error.ts";
import { logIn, logOut } from "../../services/dashboard-sessions.ts";
import type { HubContext } from "../../services/hub-context.ts";
import { field, type PageRenderer } from "./page-renderer.tsx";
import { LoginPage } from "./pages/login-page.tsx";
import {
  clearSessionCookie,
  type DashboardEnv,
  readSession,
  refuseCrossOrigin,
  requireSession,
  writeSessionCookie,
} from "./session-guard.ts";

export function loginRoutes(ctx: HubContext, render: PageRenderer) {
  const app = new Hono<DashboardEnv>();
  app.get("/login", async (c) => {
    if (await readSession(ctx, c)) return c.redirect("/", 302);
    return render.publicPage(c, "Log in", <LoginPage notice={c.req.query("notice")} />);
  });
  app.post("/login", refuseCrossOrigin, async (c) => {
    const form = await c.req.parseBody();
    try {
      const opened = await logIn(ctx, field(form, "token").trim());
      await writeSessionCookie(ctx, c, opened.id);
      return c.redirect("/", 303);
    } catch (error) {
      if (!(error instanceof FleetsyncError)) throw error;
      return render.publicPage(c, "Log in", <LoginPage error={error.message} />, error.status);
    }
  });
  app.post("/logout", refuseCrossOrigin, requireSession(ctx), async (c) => {
    await logOut(ctx, c.get("sessionId"));
    clearSessionCookie(c);
    return c.redirect("/login?notice=logged%20out", 303);
  });
  return app;
}
