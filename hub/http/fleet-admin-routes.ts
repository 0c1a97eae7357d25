// /v1/admin additions for steering the fleet: approve or deny pending devices, metrics tokens, alert rules.
import { Hono } from "hono";
import { z } from "zod";
import { ALERT_KINDS } from "../services/alert-plan.ts";
import { addAlert, listAlerts, removeAlert } from "../services/alerts.ts";
import { approveDevice, denyDevice } from "../services/approval.ts";
import type { HubContext } from "../services/hub-context.ts";
import { createMetricsToken, listMetricsTokens, revokeMetricsToken } from "../services/metrics-tokens.ts";
import { readJson } from "./validate.ts";

export const CreateMetricsTokenRequestSchema = z.strictObject({ label: z.string().max(200).default("") });

export const AddAlertRequestSchema = z.strictObject({
  url: z.string().min(1).max(2000),
  on: z.array(z.enum(ALERT_KINDS)).min(1).max(ALERT_KINDS.length).optional(),
  offlineAfter: z.string().max(20).optional(),
});

export function fleetAdminRoutes(ctx: HubContext) {
  const app = new Hono();
  app.post("/devices/:id/approve", async (c) => c.json(await approveDevice(ctx, c.req.param("id"))));
  app.post("/devices/:id/deny", async (c) => c.json(await denyDevice(ctx, c.req.param("id"))));

  app.get("/metrics-tokens", async (c) => c.json({ tokens: await listMetricsTokens(ctx) }));
  app.post("/metrics-tokens", async (c) =>
    c.json(await createMetricsToken(ctx, await readJson(c, CreateMetricsTokenRequestSchema)), 201),
  );
  app.post("/metrics-tokens/:id/revoke", async (c) =>
    c.json(await revokeMetricsToken(ctx, c.req.param("id"))),
  );

  app.get("/alerts", async (c) => c.json({ alerts: await listAlerts(ctx) }));
  app.post("/alerts", async (c) =>
    c.json(await addAlert(ctx, await readJson(c, AddAlertRequestSchema)), 201),
  );
  app.delete("/alerts/:id", async (c) => c.json(await removeAlert(ctx, c.req.param("id"))));
  return app;
}
