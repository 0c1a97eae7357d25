// The hub on Node: open libSQL, initialize, serve the Hono app, and stop cleanly on SIGINT/SIGTERM.
import { chmod, mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { createServer as createHttpsServer } from "node:https";
import { join, resolve } from "node:path";
import { serve } from "@hono/node-server";
import { getConnInfo } from "@hono/node-server/conninfo";
import { createInProcessNotifier } from "./adapters/in-process-notifier.ts";
import { createJsonLogger } from "./adapters/json-logger.ts";
import { createPollingNotifier } from "./adapters/polling-notifier.ts";
import { createWindowRateLimiter } from "./adapters/window-rate-limiter.ts";
import { buildHubContext } from "./build-hub-context.ts";
import { openLibsql } from "./db/open-libsql.ts";
import { createApp } from "./http/create-app.ts";
import { createFileBlockStore } from "./node/file-block-store.ts";
import { nodeBlockHasher } from "./node/node-block-hasher.ts";
import { hasPackFiles, openOlderBlockStores } from "./node/older-block-stores.ts";
import { createPackBlockStore, type PackBlockStore } from "./node/pack-block-store.ts";
import type { BlockStore } from "./ports/block-store.ts";
import type { HealthPort } from "./ports/health.ts";
import type { Logger } from "./ports/logger.ts";
import { createAlertMonitor } from "./services/alert-monitor.ts";
import { collectGarbage } from "./services/collect-garbage.ts";
import type { HubContext, HubLimits } from "./services/hub-context.ts";

export type HubOptions = {
  dataDir: string;
  host: string;
  port: number;
  /** A remote libSQL URL; default is the embedded file DATA/hub.db. */
  dbUrl?: string;
  dbAuthToken?: string;
  limits?: Partial<HubLimits>;
  /**
   * Where block content lives: "pack" (default with the embedded database: pack files under DATA/packs, indexed
   * in it), "file" (DATA/blocks, one file per block) or "db" (the libSQL table: the default with a remote
   * database, which several hub processes share). Blocks an earlier store kept stay readable.
   */
  blockStore?: BlockStoreKind;
  log?: Logger;
  /** Enrolment attempts one client address may make per minute (default 20; more for a fleet behind one NAT). */
  enrolAttemptsPerMinute?: number;
  /** How often alert rules are checked (default 5 s). */
  alertCheckIntervalMs?: number;
  /** Serve HTTPS with this PEM certificate (chain) and key, both file paths; default plain HTTP. */
  tls?: { certFile: string; keyFile: string };
  /** Called once with the admin token when this start created it. */
  onAdminToken?: (token: string, file: string) => void;
};

export type BlockStoreKind = "pack" | "file" | "db";

export type RunningHub = { url: string; port: number; ctx: HubContext; stop: () => Promise<void> };

const GC_INTERVAL_MS = 10 * 60 * 1000;
const ALERT_CHECK_INTERVAL_MS = 5000;
/** Events one alert may send per minute. */
const ALERT_EVENTS_PER_MINUTE = 30;
const STOP_GRACE_MS = 5000;
/** How often the data dir is checked in the background; requests check it at most once a second. */
const DATA_DIR_CHECK_INTERVAL_MS = 2000;
const DATA_DIR_REQUEST_CHECK_MS = 1000;

export async function startHub(options: HubOptions): Promise<RunningHub> {
  const dataDir = resolve(options.dataDir);
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const log =
    options.log ?? createJsonLogger((line) => process.stdout.write(`${line}\n`), { component: "hub" });
  const dbUrl = options.dbUrl ?? `file:${join(dataDir, "hub.db")}`;
  const opened = await openLibsql(dbUrl, options.dbAuthToken);
  const dataDirWatch = options.dbUrl
    ? undefined
    : await watchDataDir({ dataDir, file: join(dataDir, "hub.db"), log });
  const stopping = new AbortController();
  const storeKind = options.blockStore ?? (options.dbUrl ? "db" : "pack");
  if (storeKind === "pack" && options.dbUrl) {
    opened.close();
    throw new Error(
      "the pack block store keeps its index in the hub's own database file, so it cannot be used with FLEETSYNC_DB_URL; use --block-store db (shared by several hubs) or file",
    );
  }
  let packStore: PackBlockStore | undefined;
  const blocksDir = join(dataDir, "blocks");
  const packsDir = join(dataDir, "packs");
  const { ctx, newAdminToken } = await buildHubContext({
    db: opened.db,
    ...(opened.replayDb ? { replayDb: opened.replayDb } : {}),
    log,
    storageLabel: dataDir,
    ...(options.limits ? { limits: options.limits } : {}),
    blockStore: async (table, limits) => {
      if (storeKind === "db") return table;
      const openPacks = async (previous: BlockStore | undefined) => {
        packStore = await createPackBlockStore({
          dir: packsDir,
          db: opened.db,
          paramLimit: limits.sqlParamLimit,
          ...(previous ? { previous } : {}),
          onCompactionError: (error) => log.error("block store compaction failed", { error: String(error) }),
        });
        return packStore;
      };
      if (storeKind === "file") {
        // Back from the pack store: its packs are still read (their index is in the embedded database only).
        const older = !options.dbUrl && (await hasPackFiles(packsDir)) ? await openPacks(table) : table;
        return createFileBlockStore({ dir: blocksDir, previous: older });
      }
      return openPacks(await openOlderBlockStores({ blocksDir, db: opened.db, table }));
    },
    hashBlock: nodeBlockHasher,
    notifier: options.dbUrl
      ? createPollingNotifier(async () => {
          const result = await opened.client.execute("select name, head_seq from shares");
          return new Map(result.rows.map((row) => [String(row.name), Number(row.head_seq)]));
        })
      : createInProcessNotifier(),
    ...(dataDirWatch ? { health: dataDirWatch } : {}),
    ...(options.enrolAttemptsPerMinute
      ? { enrolLimiter: createWindowRateLimiter(options.enrolAttemptsPerMinute, 60_000) }
      : {}),
    stopping: stopping.signal,
    coalesceInstructions: true,
  });
  if (newAdminToken) {
    const file = join(dataDir, "admin.token");
    await writeFile(file, `${newAdminToken}\n`, { mode: 0o600 });
    await chmod(file, 0o600);
    options.onAdminToken?.(newAdminToken, file);
  }
  const tls = options.tls && {
    cert: await readFile(options.tls.certFile).catch((error: Error) => {
      throw new Error(`reading --tls-cert ${options.tls?.certFile}: ${error.message}`, { cause: error });
    }),
    key: await readFile(options.tls.keyFile).catch((error: Error) => {
      throw new Error(`reading --tls-key ${options.tls?.keyFile}: ${error.message}`, { cause: error });
    }),
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
    const s = serve(
      tls
        ? {
            fetch,
            hostname: options.host,
            port: options.port,
            createServer: createHttpsServer,
            serverOptions: tls,
          }
        : { fetch, hostname: options.host, port: options.port },
      () => resolveServer(s),
    );
    s.once("error", reject);
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : options.port;
  const url = `${tls ? "https" : "http"}://${options.host.includes(":") ? `[${options.host}]` : options.host}:${port}`;

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
      dataDirWatch?.stop();
      stopping.abort();
      await new Promise<void>((done) => {
        server.close(() => done());
        if ("closeIdleConnections" in server) {
          server.closeIdleConnections();
          // In-flight requests had their chance to finish; whatever still holds a socket is cut.
          setTimeout(() => server.closeAllConnections(), STOP_GRACE_MS).unref();
        }
      });
      await packStore
        ?.close()
        .catch((error) => log.error("closing the block store failed", { error: String(error) }));
      opened.close();
      log.info("hub stopped");
    })();
    return stopped;
  };
  log.info("hub listening", {
    url,
    data: dataDir,
    db: options.dbUrl ? "remote libSQL" : dbUrl,
    blockStore: storeKind,
  });
  return { url, port, ctx, stop };
}

/**
 * Notices the data dir being deleted (or hub.db replaced) under the running hub: hub.db's inode gone or
 * changed. Checked every couple of seconds, and before a request at most once a second; logged once.
 */
async function watchDataDir(options: {
  dataDir: string;
  file: string;
  log: Logger;
}): Promise<HealthPort & { stop(): void }> {
  const initial = await stat(options.file);
  let problem: string | undefined;
  let lastCheck = Date.now();
  const check = async () => {
    lastCheck = Date.now();
    if (problem) return;
    const now = await stat(options.file).catch(() => undefined);
    if (now && now.ino === initial.ino && now.dev === initial.dev) return;
    problem ??= `the hub's data directory ${options.dataDir} was deleted (${options.file} is ${now ? "another file now" : "gone"}) while the hub was running; nothing more is accepted; restart the hub`;
    options.log.error("data directory lost", { data: options.dataDir, problem });
  };
  const timer = setInterval(() => void check(), DATA_DIR_CHECK_INTERVAL_MS);
  timer.unref();
  return {
    async problem() {
      if (!problem && Date.now() - lastCheck >= DATA_DIR_REQUEST_CHECK_MS) await check();
      return problem;
    },
    stop: () => clearInterval(timer),
  };
}
