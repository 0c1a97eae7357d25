/** @jsxImportSource hono/jsx */
// The dashboard: server-rendered pages behind a login (placeholder until the pages land).
import { Hono } from "hono";
import type { HubContext } from "../../services/hub-context.ts";

export function dashboardRoutes(_ctx: HubContext) {
  return new Hono();
}
