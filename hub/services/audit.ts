// Audit events: who did what to which object, recorded in the same batch as the change itself.
import { auditEvents } from "../db/schema.ts";
import type { HubContext } from "./hub-context.ts";

export function auditStatement(
  ctx: HubContext,
  actor: string,
  action: string,
  target: string,
  detail: object = {},
) {
  return ctx.db
    .insert(auditEvents)
    .values({ at: ctx.now(), actor, action, target, detail: JSON.stringify(detail) });
}
