// The device-authentication middleware for /v1 and the request variable it sets (`deviceId`).
import { createMiddleware } from "hono/factory";
import type { RequestIdVariables } from "hono/request-id";
import { PRESENCE_HEADER } from "../../shared/protocol/messages.ts";
import { recordAgentVersion } from "../services/agent-version.ts";
import { authenticateDevice } from "../services/authenticate.ts";
import type { HubContext } from "../services/hub-context.ts";

/** What a route behind `deviceAuth` may read with `c.get(...)`. */
export type DeviceVariables = RequestIdVariables & { deviceId: string };

export function deviceAuth(ctx: HubContext) {
  return createMiddleware<{ Variables: DeviceVariables }>(async (c, next) => {
    const device = await authenticateDevice(ctx, {
      authorization: c.req.header("authorization"),
      method: c.req.method,
      path: new URL(c.req.url).pathname,
      touchLastSeen: c.req.header(PRESENCE_HEADER) !== "none",
    });
    c.set("deviceId", device.id);
    await recordAgentVersion(ctx, device.id, c.req.header("user-agent"));
    await next();
  });
}
