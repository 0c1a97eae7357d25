// /v1/admin: shares, devices, enrolment tokens and housekeeping, for the admin token only.
import { Hono } from "hono";
import { z } from "zod";
import { FleetsyncError } from "../../shared/errors/fleetsync-error.ts";
import { PiholeItemsChangeSchema, PiholeItemsSchema } from "../../shared/protocol/pihole-items.ts";
import {
  CONFLICT_POLICIES,
  DELETE_POLICIES,
  SHARE_KINDS,
  ShareGrantSchema,
  ShareNameSchema,
  STORAGE_POLICIES,
} from "../../shared/protocol/shares.ts";
import { parseDurationMs } from "../../shared/time/parse-duration.ts";
import { authenticateAdmin } from "../services/authenticate.ts";
import { collectGarbage } from "../services/collect-garbage.ts";
import { listDevices, removeDevice, renameDevice, revokeDevice } from "../services/devices.ts";
import { createEnrolmentToken, listTokens, revokeToken } from "../services/enrolment.ts";
import type { HubContext } from "../services/hub-context.ts";
import { confirmMassDelete } from "../services/mass-delete-guard.ts";
import { createShare, deleteShare, listShares, setPiholeItems, showShare } from "../services/shares.ts";
import { fleetAdminRoutes } from "./fleet-admin-routes.ts";
import { readJson, validate } from "./validate.ts";

export const CreateShareRequestSchema = z.strictObject({
  name: ShareNameSchema,
  kind: z.enum(SHARE_KINDS).default("folder"),
  deletes: z.enum(DELETE_POLICIES).default("propagate"),
  conflicts: z.enum(CONFLICT_POLICIES).default("keep-both"),
  storage: z.enum(STORAGE_POLICIES).default("full"),
  approval: z.enum(["none", "required"]).default("none"),
  pihole: PiholeItemsSchema.optional(),
});

export const SetShareRequestSchema = z.strictObject({ pihole: PiholeItemsChangeSchema });

export const RenameDeviceRequestSchema = z.strictObject({ name: z.string().trim().min(1).max(128) });

const MAX_TOKEN_TTL_MS = 365 * 86_400_000;

export const CreateTokenRequestSchema = z.strictObject({
  shares: z.array(ShareGrantSchema).min(1).max(50),
  ttl: z
    .string()
    .default("24h")
    .refine(
      (t) => (parseDurationMs(t) ?? Infinity) <= MAX_TOKEN_TTL_MS,
      "use a duration such as 30m, 24h or 7d, at most 365d",
    ),
  label: z.string().max(200).default(""),
  approval: z.boolean().default(false),
});

export function adminRoutes(ctx: HubContext) {
  const app = new Hono();
  app.use(async (c, next) => {
    await authenticateAdmin(ctx, c.req.header("authorization"));
    await next();
  });

  app.get("/shares", async (c) => c.json({ shares: await listShares(ctx) }));
  app.post("/shares", async (c) =>
    c.json(await createShare(ctx, await readJson(c, CreateShareRequestSchema)), 201),
  );
  app.get("/shares/:name", async (c) => c.json(await showShare(ctx, c.req.param("name"))));
  app.patch("/shares/:name", async (c) => {
    const { pihole } = await readJson(c, SetShareRequestSchema);
    return c.json(await setPiholeItems(ctx, c.req.param("name"), pihole));
  });
  app.delete("/shares/:name", async (c) => c.json(await deleteShare(ctx, c.req.param("name"))));
  app.post("/shares/:name/confirm-delete", async (c) =>
    c.json(await confirmMassDelete(ctx, c.req.param("name"))),
  );

  app.get("/devices", async (c) => c.json({ devices: await listDevices(ctx) }));
  app.patch("/devices/:id", async (c) => {
    const { name } = await readJson(c, RenameDeviceRequestSchema);
    return c.json(await renameDevice(ctx, c.req.param("id"), name));
  });
  app.delete("/devices/:id", async (c) => c.json(await removeDevice(ctx, c.req.param("id"))));
  app.post("/devices/:id/revoke", async (c) => c.json(await revokeDevice(ctx, c.req.param("id"))));

  app.get("/tokens", async (c) => c.json({ tokens: await listTokens(ctx) }));
  app.post("/tokens", async (c) => {
    const body = await readJson(c, CreateTokenRequestSchema);
    const ttlMs = parseDurationMs(body.ttl);
    if (ttlMs === undefined) throw new FleetsyncError("invalid", 'body field "ttl": not a duration');
    return c.json(
      await createEnrolmentToken(ctx, {
        shares: body.shares,
        ttlSeconds: Math.ceil(ttlMs / 1000),
        label: body.label,
        approval: body.approval,
      }),
      201,
    );
  });
  app.post("/tokens/:jti/revoke", async (c) => c.json(await revokeToken(ctx, c.req.param("jti"))));

  app.post("/gc", async (c) => {
    const query = validate(
      z.object({ graceSeconds: z.coerce.number().int().min(0).optional() }),
      c.req.query(),
      "query",
    );
    return c.json(
      await collectGarbage(ctx, query.graceSeconds === undefined ? undefined : query.graceSeconds * 1000),
    );
  });

  app.route("/", fleetAdminRoutes(ctx));

  // Otherwise an unknown admin path falls through to the device routes mounted at /v1 and their token check.
  app.all("*", (c) => {
    throw new FleetsyncError("not_found", `no route for ${c.req.method} ${c.req.path}`);
  });
  return app;
}
