// GET /events: a server-sent event stream that says `change` whenever what the dashboard shows has moved.
import { Hono } from "hono";
import { streamSSE } from "hono/streaming";
import { readStateVersion } from "../../services/dashboard-state-version.ts";
import type { HubContext } from "../../services/hub-context.ts";
import { type DashboardEnv, requireSession } from "./session-guard.ts";

/** How often an open page's stream compares the hub's state with what it last saw. */
export const LIVE_POLL_MS = 1000;
const KEEPALIVE_MS = 15_000;

export function liveEventRoutes(ctx: HubContext) {
  const app = new Hono<DashboardEnv>();
  app.get("/events", requireSession(ctx), (c) =>
    streamSSE(c, async (stream) => {
      let open = true;
      stream.onAbort(() => {
        open = false;
      });
      let seen = await readStateVersion(ctx);
      let quietMs = 0;
      await stream.writeSSE({ event: "hello", data: "watching" });
      while (open && !ctx.stopping?.aborted) {
        await stream.sleep(LIVE_POLL_MS);
        if (!open || ctx.stopping?.aborted) break;
        const now = await readStateVersion(ctx);
        if (now !== seen) {
          seen = now;
          quietMs = 0;
          await stream.writeSSE({ event: "change", data: String(ctx.now()) });
          continue;
        }
        quietMs += LIVE_POLL_MS;
        if (quietMs >= KEEPALIVE_MS) {
          quietMs = 0;
          await stream.write(": keepalive\n\n");
        }
      }
    }),
  );
  return app;
}
