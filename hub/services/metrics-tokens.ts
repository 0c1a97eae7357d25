// Read-only metrics tokens (`fleetsync token create --metrics`): minted, listed, revoked, and checked on /metrics.
import { and, desc, eq, isNull } from "drizzle-orm";
import { toHex } from "../../shared/blocks/hex.ts";
import { FleetsyncError } from "../../shared/errors/fleetsync-error.ts";
import { accessTokens } from "../db/schema.ts";
import { auditStatement } from "./audit.ts";
import { authenticateAdmin, bearerToken } from "./authenticate.ts";
import type { HubContext } from "./hub-context.ts";
import { hashSecret } from "./initialize-hub.ts";

export const METRICS_TOKEN_PREFIX = "fsm_";
export const METRICS_TOKEN_ID_PREFIX = "mt_";

export async function createMetricsToken(ctx: HubContext, input: { label: string }) {
  const token = `${METRICS_TOKEN_PREFIX}${toHex(crypto.getRandomValues(new Uint8Array(24)))}`;
  const id = `${METRICS_TOKEN_ID_PREFIX}${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
  await ctx.db.batch([
    ctx.db.insert(accessTokens).values({
      id,
      kind: "metrics",
      hash: await hashSecret(token),
      label: input.label,
      createdAt: ctx.now(),
    }),
    auditStatement(ctx, "admin", "metrics-token.create", id, { label: input.label }),
  ]);
  return { id, token, kind: "metrics" as const };
}

export async function listMetricsTokens(ctx: HubContext) {
  const rows = await ctx.db.select().from(accessTokens).orderBy(desc(accessTokens.createdAt));
  return rows.map((row) => ({
    id: row.id,
    kind: row.kind,
    label: row.label,
    createdAt: new Date(row.createdAt).toISOString(),
    state: row.revokedAt === null ? "active" : "revoked",
  }));
}

export async function revokeMetricsToken(ctx: HubContext, id: string) {
  const updated = await ctx.db
    .update(accessTokens)
    .set({ revokedAt: ctx.now() })
    .where(and(eq(accessTokens.id, id), isNull(accessTokens.revokedAt)))
    .returning({ id: accessTokens.id });
  if (updated.length === 0)
    throw new FleetsyncError("not_found", `no active metrics token with id ${id}; see fleetsync token list`);
  await auditStatement(ctx, "admin", "metrics-token.revoke", id);
  return { id, revoked: true };
}

/** The admin token or an unrevoked metrics token; anything else is 401. */
export async function authenticateMetricsReader(ctx: HubContext, header: string | undefined): Promise<void> {
  const token = bearerToken(header);
  if (token.startsWith(METRICS_TOKEN_PREFIX)) {
    const [row] = await ctx.db
      .select()
      .from(accessTokens)
      .where(and(eq(accessTokens.hash, await hashSecret(token)), eq(accessTokens.kind, "metrics")));
    if (!row)
      throw new FleetsyncError(
        "unauthenticated",
        "metrics token is not valid for this hub; create one with: fleetsync token create --metrics",
      );
    if (row.revokedAt !== null)
      throw new FleetsyncError(
        "unauthenticated",
        `metrics token ${row.id} was revoked; create a new one with: fleetsync token create --metrics`,
      );
    return;
  }
  try {
    await authenticateAdmin(ctx, header);
  } catch (error) {
    if (!(error instanceof FleetsyncError)) throw error;
    throw new FleetsyncError(
      "unauthenticated",
      "/metrics needs the admin token or a metrics token (fleetsync token create --metrics) as 'Authorization: Bearer <token>'",
    );
  }
}
