// The hub on Node: open libSQL, initialize, serve the Hono app, and stop cleanly on SIGINT/SIGTERM.
import { chmod, mkdir, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { serve } from "@hono/node-server";
import { getConnInfo } from "@hono/node-server/conninfo";
import { openLibsql } from "./db/open-libsql.ts";
import { createApp } from "./http/create-app.ts";
import { createFileBlockStore } from "./node/file-block-store.ts";
import { createTableBlockStore } from "./ports/block-store.ts";
import { createJsonLogger, type Logger } from "./ports/logger.ts";
import { createInProcessNotifier, createPollingNotifier } from "./ports/notifier.ts";
import { createWindowRateLimiter } from "./ports/rate-limiter.ts";
import { createAlertMonitor } from "./services/alert-monitor.ts";
import { collectGarbage } from "./services/collect-garbage.ts";
import { DEFAULT_LIMITS, type HubContext, type HubLimits } from "./services/hub-context.ts";
import { initializeHub } from "./services/initialize-hub.ts";

export type HubOptions = {
  dataDir: string;
  host: string;
  port: number;
  /** A remote libSQL URL; default is the embedded file DATA/hub.db. */
  dbUrl?: string;
  dbAuthToken?: string;
  limits?: Partial<HubLimits>;
  /**
   * Where block content lives: "file" (default with the embedded database: DATA/blocks, one file per block) or
   * "db" (the libSQL table: the default with a remote database, which several hub processes share).
   */
  blockStore?: "file" | "db";
  log?: Logger;
  /** How often alert rules are checked (default 5 s). */
  alertCheckIntervalMs?: number;
  /** Called once with the admin token when this start created it. */
  onAdminToken?: (token: string, file: string) => void;
};

export type RunningHub = { url: string; port: number; ctx: HubContext; stop: () => Promise<void> };

const GC_INTERVAL_MS = 10 * 60 * 1000;
const ALERT_CHECK_INTERVAL_MS = 5000;
/** Events one alert may send per minute. */
const ALERT_EVENTS_PER_MINUTE = 30;
const STOP_GRACE_MS = 5000;

export async function startHub(options: HubOptions): Promise<RunningHub> {
  const dataDir = resolve(options.dataDir);
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const log =
    options.log ?? createJsonLogger((line) => process.stdout.write(`${line}\n`), { component: "hub" });
  const dbUrl = options.dbUrl ?? `file:${join(dataDir, "hub.db")}`;
  const opened = await openLibsql(dbUrl, options.dbAuthToken);
  const { identity, newAdminToken } = await initializeHub(opened.db, Date.now());
  if (newAdminToken) {
    const file = join(dataDir, "admin.token");
    await writeFile(file, `${newAdminToken}\n`, { mode: 0o600 });
    await chmod(file, 0o600);
    options.onAdminToken?.(newAdminToken, file);
  }

  const stopping = new AbortController();
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const notifier = options.dbUrl
    ? createPollingNotifier(async () => {
        const result = await opened.client.execute(
          "select group_concat(name || ':' || head_seq) as v from shares",
        );
        return String(result.rows[0]?.v ?? "");
      })
    : createInProcessNotifier();
  const tableStore = createTableBlockStore(opened.db, limits.sqlParamLimit);
  const blockStore =
    (options.blockStore ?? (options.dbUrl ? "db" : "file")) === "file"
      ? await createFileBlockStore({ dir: join(dataDir, "blocks"), previous: tableStore })
      : tableStore;
  const ctx: HubContext = {
    db: opened.db,
    blockStore,
    notifier,
    identity,
    limits,
    enrolLimiter: createWindowRateLimiter(20, 60_000),
    log,
    now: Date.now,
    stopping: stopping.signal,
  };
  const app = createApp(ctx, { clientAddress: (c) => getConnInfo(c).remote.address ?? "unknown" });

  // Once stopping, every answer closes its connection, so keep-alive clients (long-polling agents) let go.
  const fetch = async (request: Request, env: unknown) => {
    const response = await app.fetch(request, env);
    if (!stopping.signal.aborted) return response;
    const closing = new Response(response.body, response);
    closing.headers.set("connection", "close");
    return closing;
  };
  const server = await new Promise<ReturnType<typeof serve>>((resolveServer, reject) => {
    const s = serve({ fetch, hostname: options.host, port: options.port }, () => resolveServer(s));
    s.once("error", reject);
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : options.port;
  const url = `http://${options.host.includes(":") ? `[${options.host}]` : options.host}:${port}`;

  const gcTimer = setInterval(() => {
    collectGarbage(ctx).catch((error) => log.error("garbage collection failed", { error: String(error) }));
  }, GC_INTERVAL_MS);
  gcTimer.unref();
  const alertMonitor = createAlertMonitor(ctx, {
    limiter: createWindowRateLimiter(ALERT_EVENTS_PER_MINUTE, 60_000),
  });
  const alertTimer = setInterval(() => {
    alertMonitor.check().catch((error) => log.error("alert check failed", { error: String(error) }));
  }, options.alertCheckIntervalMs ?? ALERT_CHECK_INTERVAL_MS);
  alertTimer.unref();

  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= (async () => {
      clearInterval(gcTimer);
      clearInterval(alertTimer);
      stopping.abort();
      await new Promise<void>((done) => {
        server.close(() => done());
        if ("closeIdleConnections" in server) {
          server.closeIdleConnections();
          // In-flight requests had their chance to finish; whatever still holds a socket is cut.
          setTimeout(() => server.closeAllConnections(), STOP_GRACE_MS).unref();
        }
      });
      opened.close();
      log.info("hub stopped");
    })();
    return stopped;
  };
  log.info("hub listening", { url, data: dataDir, db: options.dbUrl ? "remote libSQL" : dbUrl });
  return { url, port, ctx, stop };
}
