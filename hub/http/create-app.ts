// The hub's HTTP surface (Hono), the same on Node and Workers: device protocol, admin API, health and keys.
import { DrizzleQueryError } from "drizzle-orm/errors";
import { type Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { type RequestIdVariables, requestId } from "hono/request-id";
import { type ErrorBody, FleetsyncError } from "../../shared/errors/fleetsync-error.ts";
import { isStorageFull } from "../db/is-storage-full.ts";
import type { HubContext } from "../services/hub-context.ts";
import { createHttpMetricsRecorder } from "../services/metrics-http-recorder.ts";
import { adminRoutes } from "./admin-routes.ts";
import { dashboardRoutes } from "./dashboard/dashboard-routes.ts";
import { deviceRoutes } from "./device-routes.ts";
import { metricsRoutes, recordHttpMetrics } from "./metrics-routes.ts";

export type AppOptions = {
  /** The caller's network address, for rate limits (each runtime knows it differently). */
  clientAddress?: (c: Context) => string;
};

export function createApp(ctx: HubContext, options: AppOptions = {}) {
  const app = new Hono<{ Variables: RequestIdVariables }>();
  const clientAddress =
    options.clientAddress ?? ((c: Context) => c.req.header("x-forwarded-for") ?? "unknown");

  app.use(requestId());
  const httpMetrics = createHttpMetricsRecorder();
  app.use(recordHttpMetrics(httpMetrics));
  app.use("*", async (c, next) => {
    const isBlockUpload = c.req.method === "POST" && c.req.path === "/v1/blocks";
    const maxSize = isBlockUpload ? ctx.limits.maxBlockBodyBytes : ctx.limits.maxBodyBytes;
    return bodyLimit({
      maxSize,
      onError: () => {
        throw new FleetsyncError(
          "payload_too_large",
          `request body is larger than ${maxSize} bytes; send less per request`,
        );
      },
    })(c, next);
  });

  // Nothing more is accepted (or served from a stale copy) once the storage is gone.
  app.use("/v1/*", async (_c, next) => {
    const problem = await ctx.health.problem();
    if (problem) throw new FleetsyncError("unavailable", problem, { retryable: false });
    await next();
  });

  app.get("/healthz", async (c) => {
    const problem = await ctx.health.problem();
    if (problem) throw new FleetsyncError("unavailable", problem, { retryable: false });
    return c.json({ ok: true, hubId: ctx.identity.hubId });
  });
  app.get("/.well-known/jwks.json", (c) => c.json(ctx.identity.jwks));
  app.route("/v1/admin", adminRoutes(ctx));
  app.route("/v1", deviceRoutes(ctx, clientAddress));
  app.route("/", metricsRoutes(ctx, httpMetrics));
  app.route("/", dashboardRoutes(ctx));

  app.notFound((c) => {
    throw new FleetsyncError("not_found", `no route for ${c.req.method} ${c.req.path}`);
  });
  app.onError((error, c) => {
    let failure: FleetsyncError;
    if (error instanceof FleetsyncError) failure = error;
    else if (error instanceof HTTPException && error.status === 413) {
      failure = new FleetsyncError("payload_too_large", "request body is too large");
    } else if (error instanceof HTTPException && error.status < 500) {
      failure = new FleetsyncError("bad_request", error.message || "bad request");
    } else if (isStorageFull(error)) {
      const message = `the hub is out of disk space (DATA=${ctx.storageLabel}); free space on the hub`;
      ctx.log.error(message, { requestId: c.get("requestId"), path: c.req.path });
      failure = new FleetsyncError("insufficient_storage", message);
    } else {
      ctx.log.error("request failed", {
        requestId: c.get("requestId"),
        path: c.req.path,
        error: describeInternalError(error),
      });
      failure = new FleetsyncError("internal", "the hub failed to handle this request; see the hub log");
    }
    const body: ErrorBody = {
      error: { code: failure.code, message: failure.message, requestId: c.get("requestId") ?? "" },
    };
    if (failure.retryAfterSeconds !== undefined) c.header("Retry-After", String(failure.retryAfterSeconds));
    return c.json(body, failure.status as 400);
  });
  return app;
}

/** What an unexpected error may put in the log: never bound SQL parameters (they can hold block bytes or tokens). */
export function describeInternalError(error: unknown): string {
  if (error instanceof DrizzleQueryError) {
    return `query failed: ${error.query.slice(0, 300)}: ${String(error.cause).slice(0, 500)}`;
  }
  return String(error).slice(0, 1000);
}
