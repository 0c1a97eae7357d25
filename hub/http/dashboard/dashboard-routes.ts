// The dashboard: its assets, login, the fleet / share / device / pending / tokens pages, and live updates (SSE).
import { Hono } from "hono";
import type { HubContext } from "../../services/hub-context.ts";
import { DASHBOARD_CSS, DASHBOARD_JS } from "./dashboard-assets.ts";
import { fleetPageRoutes } from "./fleet-page-routes.tsx";
import { liveEventRoutes } from "./live-events.ts";
import { loginRoutes } from "./login-routes.tsx";
import { createPageRenderer } from "./page-renderer.tsx";
import { tokenRoutes } from "./token-routes.tsx";

export function dashboardRoutes(ctx: HubContext) {
  const app = new Hono();
  const render = createPageRenderer(ctx);
  app.get("/assets/dashboard.css", (c) =>
    c.body(DASHBOARD_CSS, 200, { "content-type": "text/css; charset=utf-8", "cache-control": "max-age=300" }),
  );
  app.get("/assets/dashboard.js", (c) =>
    c.body(DASHBOARD_JS, 200, {
      "content-type": "text/javascript; charset=utf-8",
      "cache-control": "max-age=300",
    }),
  );
  app.route("/", loginRoutes(ctx, render));
  app.route("/", fleetPageRoutes(ctx, render));
  app.route("/", tokenRoutes(ctx, render));
  app.route("/", liveEventRoutes(ctx));
  return app;
}
