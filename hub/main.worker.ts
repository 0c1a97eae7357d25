// The hub on Cloudflare Workers: D1 through drizzle, blocks in R2, wake-ups and rate limits in Durable Objects; the same Hono app, built once per isolate.
import { drizzle } from "drizzle-orm/d1";
import type { ErrorBody } from "../shared/errors/fleetsync-error.ts";
import { WAKE_SOCKETS_HEADER, WAKE_SOCKETS_OFFERED } from "../shared/protocol/wake-sockets.ts";
import { createJsonLogger } from "./adapters/json-logger.ts";
import { createWindowRateLimiter } from "./adapters/window-rate-limiter.ts";
import { buildHubContext } from "./build-hub-context.ts";
import type { Database } from "./db/database.ts";
import * as schema from "./db/schema.ts";
import { createApp } from "./http/create-app.ts";
import { createAlertMonitor } from "./services/alert-monitor.ts";
import { collectGarbage } from "./services/collect-garbage.ts";
import { DEFAULT_LIMITS, type HubContext, type HubLimits } from "./services/hub-context.ts";
import { createR2BlockStore } from "./workers/r2-block-store.ts";
import { createDurableObjectRateLimiter } from "./workers/rate-window.ts";
import { createDurableObjectNotifier } from "./workers/share-wakeups.ts";
import { wakeSocketRoutes } from "./workers/wake-socket-routes.ts";
import { parseWorkerEnv } from "./workers/worker-env.ts";

export { RateWindow } from "./workers/rate-window.ts";
export { ShareWakeups } from "./workers/share-wakeups.ts";

type WaitUntil = { waitUntil(promise: Promise<unknown>): void };

/**
 * D1 binds at most 100 parameters per statement. A long-poll waits on Durable Objects, not D1, so it costs a
 * few queries, not one per second; it stays under a minute so no proxy in between cuts it.
 */
export const WORKER_LIMITS: HubLimits = { ...DEFAULT_LIMITS, sqlParamLimit: 100, maxWaitSeconds: 25 };
const log = createJsonLogger((line) => console.log(line), { component: "hub" });

/** The cron (wrangler.toml) that runs alert checks; any other cron runs garbage collection. */
const ALERT_CRON = "* * * * *";
/**
 * A cron fires at most once a minute; the Node hub checks alerts every 5 s. So an isolate that is serving requests
 * also checks after a response, at most this often, and a failing replica's error reaches its webhook in seconds.
 */
const ALERT_CHECK_AFTER_REQUEST_MS = 5000;
let alertMonitor: ReturnType<typeof createAlertMonitor> | undefined;
let lastAlertCheckAt = 0;

function checkAlerts(ctx: HubContext): Promise<unknown> {
  lastAlertCheckAt = Date.now();
  alertMonitor ??= createAlertMonitor(ctx, {
    limiter: createWindowRateLimiter(30, 60_000),
    // Workers' fetch must be called on the global: the delivery calls options.fetch(…), which threw "Illegal
    // invocation" there, so no webhook was ever delivered from Workers.
    fetch: (input, init) => fetch(input, init),
  });
  return alertMonitor.check().catch((error: unknown) => {
    log.error("alert check failed", { error: error instanceof Error ? error.message : String(error) });
  });
}

let hub: Promise<{ ctx: HubContext; app: ReturnType<typeof createApp> }> | undefined;

function hubFor(rawEnv: unknown) {
  hub ??= buildHub(rawEnv).catch((error: unknown) => {
    hub = undefined; // the next request tries again (D1 not migrated yet, secret fixed, ...)
    throw error;
  });
  return hub;
}

async function buildHub(rawEnv: unknown) {
  const env = parseWorkerEnv(rawEnv);
  const db = drizzle(env.DB, { schema }) as unknown as Database;
  const wakeups = createDurableObjectNotifier(env.WAKE, log);
  if (!env.ADMIN_TOKEN) {
    log.warn("no ADMIN_TOKEN is configured, so the admin API refuses every token", {
      fix: "wrangler secret put ADMIN_TOKEN (locally: --var ADMIN_TOKEN:<token> or .dev.vars)",
    });
  }
  const { ctx } = await buildHubContext({
    db,
    log,
    // D1 cannot vanish under an isolate the way a data dir can under a Node process: always healthy.
    storageLabel: "D1",
    limits: WORKER_LIMITS,
    // Blocks written before R2 was bound stay readable from the D1 table until GC collects them.
    blockStore: (table, limits) =>
      createR2BlockStore({ bucket: env.BLOCKS, db, paramLimit: limits.sqlParamLimit, previous: table }),
    notifier: wakeups,
    enrolLimiter: createDurableObjectRateLimiter(env.LIMITS, {
      limit: env.ENROL_ATTEMPTS_PER_MINUTE,
      windowMs: 60_000,
      scope: "enrol",
    }),
    ...(env.ADMIN_TOKEN ? { adminToken: env.ADMIN_TOKEN } : {}),
  });
  const app = createApp(ctx, { clientAddress: (c) => c.req.header("cf-connecting-ip") ?? "unknown" });
  // Idle agents hold a hibernating WebSocket to their share's object instead of a live long-poll each.
  app.route("/v1", wakeSocketRoutes(ctx, wakeups));
  return { ctx, app };
}

/** The one error body, for the case where there is no app yet to produce it. */
function startFailure(error: unknown): Response {
  log.error("hub failed to start", { error: error instanceof Error ? error.message : String(error) });
  const body: ErrorBody = {
    error: {
      code: "unavailable",
      message: "the hub failed to start; see the Worker log (wrangler tail). Were the D1 migrations applied?",
      requestId: "",
    },
  };
  return Response.json(body, { status: 503, headers: { "Retry-After": "10" } });
}

export default {
  async fetch(request: Request, env: unknown, executionCtx: WaitUntil): Promise<Response> {
    let built: Awaited<ReturnType<typeof hubFor>>;
    try {
      built = await hubFor(env);
    } catch (error) {
      return startFailure(error);
    }
    const response = await built.app.fetch(
      request,
      env,
      executionCtx as Parameters<typeof built.app.fetch>[2],
    );
    const pathname = new URL(request.url).pathname;
    // Agents learn from their config that this hub offers wake sockets (the Node hub keeps long-polls only).
    if (response.ok && pathname === "/v1/config") {
      response.headers.set(WAKE_SOCKETS_HEADER, WAKE_SOCKETS_OFFERED);
    }
    if (pathname.startsWith("/v1/") && Date.now() - lastAlertCheckAt >= ALERT_CHECK_AFTER_REQUEST_MS) {
      executionCtx.waitUntil(checkAlerts(built.ctx));
    }
    return response;
  },

  /** Cron triggers (see wrangler.toml) do what the Node hub's timers do: alert checks each minute, GC hourly. */
  async scheduled(controller: { cron?: string }, env: unknown, executionCtx: WaitUntil): Promise<void> {
    const { ctx } = await hubFor(env);
    if (controller.cron === ALERT_CRON) {
      executionCtx.waitUntil(checkAlerts(ctx));
      return;
    }
    executionCtx.waitUntil(collectGarbage(ctx));
  },
};
