/** @jsxImportSource hono/jsx */
// The dashboard: login, fleet / share / device / pending / tokens pages, their actions, and live updates (SSE).
import { type Context, Hono } from "hono";
import type { Child } from "hono/jsx";
import { streamSSE } from "hono/streaming";
import { z } from "zod";
import { FleetsyncError } from "../../../shared/errors/fleetsync-error.ts";
import { ROLES, ShareNameSchema } from "../../../shared/protocol/shares.ts";
import { parseDurationMs } from "../../../shared/time/parse-duration.ts";
import { approveDevice, denyDevice } from "../../services/approval.ts";
import { readDeviceDetail } from "../../services/dashboard-device.ts";
import { removeDevice, renameDevice } from "../../services/dashboard-device-edits.ts";
import { enrollCommand } from "../../services/dashboard-enroll-command.ts";
import { readFleet } from "../../services/dashboard-fleet.ts";
import { logIn, logOut } from "../../services/dashboard-sessions.ts";
import { readShareDetail } from "../../services/dashboard-share.ts";
import { readStateVersion } from "../../services/dashboard-state-version.ts";
import { revokeDevice } from "../../services/devices.ts";
import { createEnrolmentToken, listTokens, revokeToken } from "../../services/enrolment.ts";
import type { HubContext } from "../../services/hub-context.ts";
import { createMetricsToken, listMetricsTokens, revokeMetricsToken } from "../../services/metrics-tokens.ts";
import { listShares } from "../../services/shares.ts";
import { DASHBOARD_CSS, DASHBOARD_JS } from "./dashboard-assets.ts";
import { Layout, Notice } from "./layout.tsx";
import { DevicePage } from "./pages/device-page.tsx";
import { ErrorPage } from "./pages/error-page.tsx";
import { FleetPage } from "./pages/fleet-page.tsx";
import { LoginPage } from "./pages/login-page.tsx";
import { PendingPage } from "./pages/pending-page.tsx";
import { SharePage } from "./pages/share-page.tsx";
import { TokensPage } from "./pages/tokens-page.tsx";
import {
  clearSessionCookie,
  type DashboardEnv,
  readSession,
  refuseCrossOrigin,
  requireSession,
  writeSessionCookie,
} from "./session-guard.ts";

/** How often an open page's event stream compares the hub's state with what it last saw. */
const LIVE_POLL_MS = 1000;
const KEEPALIVE_MS = 15_000;
const MAX_TOKEN_TTL_MS = 365 * 86_400_000;

const SECURITY_HEADERS = {
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
};

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

/** A form field as text ("" when missing or a file). */
function field(form: Record<string, unknown>, name: string): string {
  const value = form[name];
  return typeof value === "string" ? value : "";
}

/** Only local paths: a `back` field can never send the browser elsewhere. */
function localPath(path: string, fallback: string): string {
  return path.startsWith("/") && !path.startsWith("//") ? path : fallback;
}

export function dashboardRoutes(ctx: HubContext) {
  const app = new Hono<DashboardEnv>();
  const session = requireSession(ctx);

  async function pendingCount() {
    return (await readFleet(ctx)).devices.filter((d) => d.state === "pending").length;
  }

  async function page(
    c: Context,
    title: string,
    body: Child,
    options: { status?: number; keep?: boolean } = {},
  ) {
    const html = (
      <Layout title={title} loggedIn pendingCount={await pendingCount()} keep={options.keep}>
        {body}
      </Layout>
    );
    return c.html(`<!doctype html>${html}`, (options.status ?? 200) as 200, SECURITY_HEADERS);
  }

  /** Runs a dashboard action; on a refusal shows the service's own message (the CLI's words) with its status. */
  async function act(c: Context, back: string, action: () => Promise<string>) {
    try {
      const notice = await action();
      return c.redirect(`${back}${back.includes("?") ? "&" : "?"}notice=${encodeURIComponent(notice)}`, 303);
    } catch (error) {
      if (!(error instanceof FleetsyncError)) throw error;
      return page(c, "Refused", <ErrorPage message={error.message} back={back} />, { status: error.status });
    }
  }

  const notice = (c: Context) => <Notice text={c.req.query("notice")} />;

  app.get("/assets/dashboard.css", (c) =>
    c.body(DASHBOARD_CSS, 200, { "content-type": "text/css; charset=utf-8", "cache-control": "max-age=300" }),
  );
  app.get("/assets/dashboard.js", (c) =>
    c.body(DASHBOARD_JS, 200, {
      "content-type": "text/javascript; charset=utf-8",
      "cache-control": "max-age=300",
    }),
  );

  app.get("/login", async (c) => {
    if (await readSession(ctx, c)) return c.redirect("/", 302);
    return c.html(
      `<!doctype html>${(
        <Layout title="Log in">
          <LoginPage notice={c.req.query("notice")} />
        </Layout>
      )}`,
      200,
      SECURITY_HEADERS,
    );
  });
  app.post("/login", refuseCrossOrigin, async (c) => {
    const form = await c.req.parseBody();
    try {
      const opened = await logIn(ctx, field(form, "token").trim());
      await writeSessionCookie(ctx, c, opened.id);
      return c.redirect("/", 303);
    } catch (error) {
      if (!(error instanceof FleetsyncError)) throw error;
      const html = (
        <Layout title="Log in">
          <LoginPage error={error.message} />
        </Layout>
      );
      return c.html(`<!doctype html>${html}`, error.status as 401, SECURITY_HEADERS);
    }
  });
  app.post("/logout", refuseCrossOrigin, session, async (c) => {
    await logOut(ctx, c.get("sessionId"));
    clearSessionCookie(c);
    return c.redirect("/login?notice=logged%20out", 303);
  });

  app.get("/", session, async (c) =>
    page(
      c,
      "Fleet",
      <>
        {notice(c)}
        <FleetPage fleet={await readFleet(ctx)} />
      </>,
    ),
  );
  app.get("/shares/:name", session, async (c) => {
    const name = c.req.param("name");
    try {
      const detail = await readShareDetail(ctx, name);
      return page(
        c,
        `Share ${name}`,
        <>
          {notice(c)}
          <SharePage detail={detail} nowMs={ctx.now()} />
        </>,
      );
    } catch (error) {
      if (!(error instanceof FleetsyncError)) throw error;
      return page(c, "Not found", <ErrorPage message={error.message} back="/" />, { status: error.status });
    }
  });
  app.get("/devices/:id", session, async (c) => {
    try {
      const detail = await readDeviceDetail(ctx, c.req.param("id"));
      return page(
        c,
        `Device ${detail.device.name}`,
        <>
          {notice(c)}
          <DevicePage detail={detail} nowMs={ctx.now()} />
        </>,
      );
    } catch (error) {
      if (!(error instanceof FleetsyncError)) throw error;
      return page(c, "Not found", <ErrorPage message={error.message} back="/" />, { status: error.status });
    }
  });
  app.get("/pending", session, async (c) => {
    const fleet = await readFleet(ctx);
    const waiting = fleet.devices.filter((d) => d.state === "pending");
    return page(
      c,
      "Pending devices",
      <>
        {notice(c)}
        <PendingPage devices={waiting} nowMs={fleet.nowMs} />
      </>,
    );
  });

  const deviceAction =
    (verb: (id: string, form: Record<string, unknown>) => Promise<string>) => async (c: Context) => {
      const id = c.req.param("id") ?? "";
      const form = await c.req.parseBody();
      const back = localPath(field(form, "back"), `/devices/${encodeURIComponent(id)}`);
      return act(c, back, () => verb(id, form));
    };
  app.post(
    "/devices/:id/approve",
    refuseCrossOrigin,
    session,
    deviceAction(async (id) => {
      await approveDevice(ctx, id);
      return `device ${id} approved; it starts syncing on its next poll`;
    }),
  );
  app.post(
    "/devices/:id/deny",
    refuseCrossOrigin,
    session,
    deviceAction(async (id) => {
      await denyDevice(ctx, id);
      return `device ${id} denied`;
    }),
  );
  app.post(
    "/devices/:id/revoke",
    refuseCrossOrigin,
    session,
    deviceAction(async (id) => {
      await revokeDevice(ctx, id);
      return `device ${id} revoked`;
    }),
  );
  app.post(
    "/devices/:id/rename",
    refuseCrossOrigin,
    session,
    deviceAction(async (id, form) => {
      const renamed = await renameDevice(ctx, { id, name: field(form, "name") });
      return `device ${id} renamed to ${renamed.name}`;
    }),
  );
  app.post("/devices/:id/remove", refuseCrossOrigin, session, async (c) => {
    const id = c.req.param("id");
    return act(c, "/", async () => {
      await removeDevice(ctx, id);
      return `device ${id} removed`;
    });
  });

  async function tokensPage(c: Context, created?: Parameters<typeof TokensPage>[0]["created"], status = 200) {
    const props = {
      tokens: await listTokens(ctx),
      metricsTokens: await listMetricsTokens(ctx),
      shareNames: (await listShares(ctx)).map((s) => s.name),
      created,
    };
    return page(
      c,
      "Tokens",
      <>
        {notice(c)}
        <TokensPage {...props} />
      </>,
      { status, keep: created !== undefined },
    );
  }
  app.get("/tokens", session, (c) => tokensPage(c));
  app.post("/tokens", refuseCrossOrigin, session, async (c) => {
    const parsed = TokenFormSchema.safeParse(await c.req.parseBody());
    try {
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new FleetsyncError(
          "invalid",
          `field "${issue?.path.join(".") ?? "?"}": ${issue?.message ?? "invalid"}`,
        );
      }
      const form = parsed.data;
      const ttlMs = parseDurationMs(form.ttl);
      if (ttlMs === undefined)
        throw new FleetsyncError("invalid", 'field "ttl": use a duration such as 30m, 24h or 7d');
      const grants = [{ name: form.share, role: form.role }];
      const minted = await createEnrolmentToken(ctx, {
        shares: grants,
        ttlSeconds: Math.ceil(ttlMs / 1000),
        label: form.label,
        approval: form.approval !== undefined,
      });
      const hubUrl = new URL(c.req.url).origin;
      return tokensPage(
        c,
        {
          kind: "enrolment",
          token: minted.token,
          command: enrollCommand({ hubUrl, token: minted.token, shares: grants }),
        },
        201,
      );
    } catch (error) {
      if (!(error instanceof FleetsyncError)) throw error;
      return page(c, "Refused", <ErrorPage message={error.message} back="/tokens" />, {
        status: error.status,
      });
    }
  });
  app.post("/tokens/:jti/revoke", refuseCrossOrigin, session, async (c) => {
    const jti = c.req.param("jti");
    return act(c, "/tokens", async () => {
      await revokeToken(ctx, jti);
      return `token ${jti} revoked`;
    });
  });
  app.post("/metrics-tokens", refuseCrossOrigin, session, async (c) => {
    const label = field(await c.req.parseBody(), "label").slice(0, 200);
    const minted = await createMetricsToken(ctx, { label });
    return tokensPage(c, { kind: "metrics", token: minted.token }, 201);
  });
  app.post("/metrics-tokens/:id/revoke", refuseCrossOrigin, session, async (c) => {
    const id = c.req.param("id");
    return act(c, "/tokens", async () => {
      await revokeMetricsToken(ctx, id);
      return `metrics token ${id} revoked`;
    });
  });

  app.get("/events", session, (c) =>
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
        } else {
          quietMs += LIVE_POLL_MS;
          if (quietMs >= KEEPALIVE_MS) {
            quietMs = 0;
            await stream.write(": keepalive\n\n");
          }
        }
      }
    }),
  );
  return app;
}
