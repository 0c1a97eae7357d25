// GET /events: a server-sent event stream that says `change` whenever what the dashboard shows has moved.
import { Hono } from "hono";
import { streamSSE } from "hono/streaming";
import { readStateVersion } from "../../services/dashboard-state-version.ts";
import type { HubContext } from "../../services/hub-context.ts";
import { type DashboardEnv, requireSession } from "./session-guard.ts";

/** How often an open page's stream compares the hub's state with what it last saw. */
export const LIVE_POLL_MS = 1000;
const KEEPALIVE_MS = 15_000;
const RECONNECT_MS = 1000;

/**
 * Each stream lasts about as long as a device long-poll may (60 s on Node, 25 s on Workers, where a request's
 * database queries are budgeted); the browser reconnects with the last version it saw as Last-Event-ID, so a
 * change between two streams is still announced.
 */
export function liveEventRoutes(ctx: HubContext) {
  const app = new Hono<DashboardEnv>();
  app.get("/events", requireSession(ctx), (c) =>
    streamSSE(c, async (stream) => {
      let open = true;
      stream.onAbort(() => {
        open = false;
      });
      const endsAt = Date.now() + ctx.limits.maxWaitSeconds * 1000;
      const known = c.req.header("last-event-id");
      let seen = await readStateVersion(ctx);
      await stream.writeSSE({ event: "hello", data: "watching", id: seen, retry: RECONNECT_MS });
      if (known !== undefined && known !== seen)
        await stream.writeSSE({ event: "change", data: seen, id: seen });
      let quietMs = 0;
      while (open && !ctx.stopping?.aborted && Date.now() < endsAt) {
        await stream.sleep(LIVE_POLL_MS);
        if (!open || ctx.stopping?.aborted) break;
        const now = await readStateVersion(ctx);
        if (now !== seen) {
          seen = now;
          quietMs = 0;
          await stream.writeSSE({ event: "change", data: now, id: now });
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
