// The Workers-only device route `GET /v1/shares/:share/wake`: an authenticated member's WebSocket, handed to its share's Durable Object to hibernate.
import { Hono } from "hono";
import { FleetsyncError } from "../../shared/errors/fleetsync-error.ts";
import { ShareNameSchema } from "../../shared/protocol/shares.ts";
import { type DeviceVariables, deviceAuth } from "../http/device-auth.ts";
import { validate } from "../http/validate.ts";
import type { HubContext } from "../services/hub-context.ts";
import { requireMembership } from "../services/shares.ts";
import type { ShareWakeupsNotifier } from "./share-wakeups.ts";

/**
 * Mounted at /v1 by hub/main.worker.ts, after the device routes, whose `deviceAuth` already checked the token
 * for every /v1 path (a second check would refuse the token's jti as replayed); it runs here only when the route
 * is mounted on its own.
 */
export function wakeSocketRoutes(ctx: HubContext, wakeups: ShareWakeupsNotifier) {
  const app = new Hono<{ Variables: DeviceVariables }>();
  const authenticate = deviceAuth(ctx);
  app.use("/shares/:share/wake", (c, next) => (c.get("deviceId") ? next() : authenticate(c, next)));
  app.get("/shares/:share/wake", async (c) => {
    const share = validate(ShareNameSchema, c.req.param("share"), "path parameter share");
    if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
      throw new FleetsyncError(
        "bad_request",
        `GET ${c.req.path} opens a wake-up WebSocket: send it with "Upgrade: websocket" (or long-poll GET /v1/instructions?wait=25)`,
      );
    }
    await requireMembership(ctx, c.get("deviceId"), share);
    return wakeups.connect(share, c.get("deviceId"), c.req.raw);
  });
  return app;
}
