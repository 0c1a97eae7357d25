/** @jsxImportSource hono/jsx */
// The tokens page: mint an enrolment token (showing the exact enroll command once) or a metrics token; revoke.
import { type Context, Hono } from "hono";
import { z } from "zod";
import { describeZodError, FleetsyncError } from "../../../shared/errors/fleetsync-error.ts";
import { ROLES, ShareNameSchema } from "../../../shared/protocol/shares.ts";
import { parseDurationMs } from "../../../shared/time/parse-duration.ts";
import { enrollCommand } from "../../services/dashboard-enroll-command.ts";
import { createEnrolmentToken, listTokens, revokeToken } from "../../services/enrolment.ts";
import type { HubContext } from "../../services/hub-context.ts";
import { createMetricsToken, listMetricsTokens, revokeMetricsToken } from "../../services/metrics-tokens.ts";
import { listShares } from "../../services/shares.ts";
import { field, type PageRenderer } from "./page-renderer.tsx";
import { TokensPage, type TokensPageProps } from "./pages/tokens-page.tsx";
import { type DashboardEnv, refuseCrossOrigin, requireSession } from "./session-guard.ts";

const MAX_TOKEN_TTL_MS = 365 * 86_400_000;

const TokenFormSchema = z.object({
  share: ShareNameSchema,
  role: z.enum(ROLES),
  ttl: z
    .string()
    .default("24h")
    .refine(
      (t) => (parseDurationMs(t) ?? Infinity) <= MAX_TOKEN_TTL_MS,
      "use a duration such as 30m, 24h or 7d, at most 365d",
    ),
  label: z.string().max(200).default(""),
  approval: z.string().optional(),
});

export function tokenRoutes(ctx: HubContext, render: PageRenderer) {
  const app = new Hono<DashboardEnv>();
  const session = requireSession(ctx);

  async function tokensPage(c: Context, created?: TokensPageProps["created"]) {
    const props: TokensPageProps = {
      tokens: await listTokens(ctx),
      metricsTokens: await listMetricsTokens(ctx),
      shareNames: (await listShares(ctx)).map((s) => s.name),
      created,
    };
    return render.page(c, "Tokens", <TokensPage {...props} />, {
      status: created ? 201 : 200,
      keep: created !== undefined,
    });
  }

  app.get("/tokens", session, (c) => tokensPage(c));
  app.post("/tokens", refuseCrossOrigin, session, async (c) => {
    try {
      const parsed = TokenFormSchema.safeParse(await c.req.parseBody());
      if (!parsed.success) throw new FleetsyncError("invalid", describeZodError(parsed.error, "form"));
      const form = parsed.data;
      const ttlMs = parseDurationMs(form.ttl);
      if (ttlMs === undefined)
        throw new FleetsyncError("invalid", 'form field "ttl": use a duration such as 30m, 24h or 7d');
      const grants = [{ name: form.share, role: form.role }];
      const minted = await createEnrolmentToken(ctx, {
        shares: grants,
        ttlSeconds: Math.ceil(ttlMs / 1000),
        label: form.label,
        approval: form.approval !== undefined,
      });
      const hubUrl = new URL(c.req.url).origin;
      const command = enrollCommand({ hubUrl, token: minted.token, shares: grants });
      return tokensPage(c, { kind: "enrolment", token: minted.token, command });
    } catch (error) {
      if (!(error instanceof FleetsyncError)) throw error;
      return render.refusal(c, error, "/tokens");
    }
  });
  app.post("/tokens/:jti/revoke", refuseCrossOrigin, session, (c) => {
    const jti = c.req.param("jti");
    return render.act(c, "/tokens", async () => {
      await revokeToken(ctx, jti);
      return `token ${jti} revoked`;
    });
  });
  app.post("/metrics-tokens", refuseCrossOrigin, session, async (c) => {
    const label = field(await c.req.parseBody(), "label").slice(0, 200);
    const minted = await createMetricsToken(ctx, { label });
    return tokensPage(c, { kind: "metrics", token: minted.token });
  });
  app.post("/metrics-tokens/:id/revoke", refuseCrossOrigin, session, (c) => {
    const id = c.req.param("id");
    return render.act(c, "/tokens", async () => {
      await revokeMetricsToken(ctx, id);
      return `metrics token ${id} revoked`;
    });
  });
  return app;
}
