// `fleetsync hub`: run the hub on Node (or, with --workers, its Workers build under local workerd) until SIGINT/SIGTERM.
import { writeSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { startHub } from "../hub/main.node.ts";
import { HUB_INFO_FILE } from "./admin-client.ts";
import { UsageError } from "./cli-error.ts";
import { acquireProcessLock } from "./process-lock.ts";
import { startWorkersHub } from "./start-workers-hub.ts";

export const HUB_HELP = `Usage: fleetsync hub [--data DIR] [--host H] [--port P] [--enrol-limit N] [--tls-cert FILE --tls-key FILE] [--block-store pack|file|db]
       fleetsync hub --workers [--data DIR] [--host H] [--port P] [--enrol-limit N]

Runs the hub: HTTP API for agents and admins, state in libSQL. Open its URL in a browser for the
dashboard (log in with the admin token); Prometheus scrapes GET /metrics with the admin token or one
from 'fleetsync token create --metrics'. One hub per data dir: a second one on the same --data refuses
to start, naming the first.

Options:
  --data DIR        where hub.db, admin.token and hub.json live (default ./data)
  --host H          address to listen on (default 127.0.0.1)
  --port P          port (default 8787; 0 picks a free one)
  --tls-cert FILE   serve HTTPS with this PEM certificate (chain); needs --tls-key
  --tls-key FILE    the certificate's PEM private key
  --enrol-limit N   enrolment attempts one address may make per minute (default 20); raise it to
                    enrol a fleet that reaches the hub through one NAT address
  --block-store pack|file|db
                    where block content lives: pack (DATA/packs, a few large files indexed in hub.db; the
                    default with the embedded database), file (DATA/blocks, one file per block) or db (the
                    libSQL table; the default with FLEETSYNC_DB_URL, shared by several hubs). Blocks stored
                    by an earlier choice stay readable (pack reads DATA/blocks and the table too, file
                    reads DATA/packs and the table)
  --workers         run the Cloudflare Workers build instead, locally under workerd (Miniflare, as wrangler dev):
                    D1, R2 and Durable Object state persist under DIR/workers, the D1 migrations are
                    applied first, and the admin token is kept in DIR/admin.token as with the Node hub;
                    wrangler.toml's cron triggers (alerts, GC) fire each minute as on Cloudflare.
                    Needs wrangler (a dev dependency: npm install in the fleetsync checkout)
Without --tls-* the hub speaks plain HTTP: run it behind a TLS-terminating proxy (Caddy, nginx)
or give it a certificate whenever agents reach it over a network you do not trust.

Environment:
  FLEETSYNC_DB_URL         use a remote libSQL database (sqld, Turso) instead of DIR/hub.db, or a
                           file:/path/hub.db that several hub processes (each with its own --data) share
  FLEETSYNC_DB_AUTH_TOKEN  its auth token
  FLEETSYNC_BLOCK_STORE    the --block-store default (pack, file or db); the flag wins

Examples:
  npx fleetsync hub --data /var/lib/fleetsync --host 0.0.0.0 --port 8787
  npx fleetsync hub --host 0.0.0.0 --tls-cert /etc/fleetsync/hub.crt --tls-key /etc/fleetsync/hub.key
  npx fleetsync hub --workers --data ./data-workers --port 8788`;

export async function runHubCommand(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      data: { type: "string", default: "./data" },
      host: { type: "string", default: "127.0.0.1" },
      port: { type: "string", default: "8787" },
      "block-store": { type: "string" },
      "enrol-limit": { type: "string" },
      "tls-cert": { type: "string" },
      "tls-key": { type: "string" },
      workers: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(HUB_HELP);
    return 0;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`--port ${values.port} is not a port number`);
  const enrolLimit = values["enrol-limit"] === undefined ? undefined : Number(values["enrol-limit"]);
  if (enrolLimit !== undefined && (!Number.isInteger(enrolLimit) || enrolLimit < 1))
    throw new UsageError(`--enrol-limit ${values["enrol-limit"]} is not a positive whole number`);
  if (values.workers) {
    for (const flag of ["block-store", "tls-cert", "tls-key"] as const) {
      if (values[flag] !== undefined)
        throw new UsageError(
          `--${flag} is for the Node hub; the Workers hub keeps blocks in R2 and gets TLS from Cloudflare (drop --${flag})`,
        );
    }
    return runWorkersHub({
      dataDir: values.data,
      host: values.host,
      port,
      ...(enrolLimit ? { enrolAttemptsPerMinute: enrolLimit } : {}),
    });
  }
  const blockStore = values["block-store"] ?? (env.FLEETSYNC_BLOCK_STORE || undefined);
  if (blockStore !== undefined && blockStore !== "pack" && blockStore !== "file" && blockStore !== "db")
    throw new UsageError(`--block-store ${blockStore}: use pack, file or db`);
  if (blockStore === "pack" && env.FLEETSYNC_DB_URL)
    throw new UsageError(
      "--block-store pack keeps its index in DATA/hub.db, so it does not go with FLEETSYNC_DB_URL: use --block-store db (several hubs share it) or file",
    );
  if ((values["tls-cert"] === undefined) !== (values["tls-key"] === undefined))
    throw new UsageError(
      "--tls-cert and --tls-key go together: give both PEM files, or neither for plain HTTP",
    );
  const tls =
    values["tls-cert"] && values["tls-key"]
      ? { certFile: values["tls-cert"], keyFile: values["tls-key"] }
      : undefined;
  const started = Date.now();
  // One hub per data dir, taken before the database is opened; the kernel frees it if this process dies.
  const lock = await acquireProcessLock({ kind: "hub", dir: resolve(values.data) });
  const hub = await startHub({
    dataDir: values.data,
    host: values.host,
    port,
    dbUrl: env.FLEETSYNC_DB_URL,
    dbAuthToken: env.FLEETSYNC_DB_AUTH_TOKEN,
    blockStore,
    ...(enrolLimit ? { enrolAttemptsPerMinute: enrolLimit } : {}),
    ...(tls ? { tls } : {}),
    onAdminToken: (token, file) => {
      console.log(`admin token (shown once, also saved to ${file}):\n  ${token}`);
    },
  });
  await writeFile(
    join(resolve(values.data), HUB_INFO_FILE),
    JSON.stringify({ url: hub.url, pid: process.pid }),
  );
  console.log(
    `fleetsync hub ready at ${hub.url} in ${Date.now() - started} ms (data: ${resolve(values.data)})`,
  );
  await new Promise<void>((done) => {
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      hub
        .stop()
        .finally(() => lock.release())
        .then(done, done);
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
  return 0;
}

async function runWorkersHub(options: {
  dataDir: string;
  host: string;
  port: number;
  enrolAttemptsPerMinute?: number;
}): Promise<number> {
  const started = Date.now();
  const dataDir = resolve(options.dataDir);
  const lock = await acquireProcessLock({ kind: "hub", dir: dataDir });
  const hub = await startWorkersHub({
    ...options,
    onAdminToken: (token, file) => {
      console.log(`admin token (shown once, also saved to ${file}):\n  ${token}`);
    },
    onOutput: (line) => console.log(line),
  }).catch(async (error: unknown) => {
    await lock.release();
    throw error;
  });
  await writeFile(join(dataDir, HUB_INFO_FILE), JSON.stringify({ url: hub.url, pid: process.pid }));
  console.log(
    `fleetsync hub (Workers, local workerd) ready at ${hub.url} in ${Date.now() - started} ms (data: ${dataDir})`,
  );
  // Miniflare's own SIGINT/SIGTERM hook stops workerd and exits before anything awaited here resumes, so the
  // line is written on exit, after workerd was told to stop, whichever path gets there first.
  process.once("exit", () => writeSync(1, "fleetsync hub stopped (Workers, local workerd)\n"));
  await waitForStopSignal();
  await hub.stop().finally(() => lock.release());
  return 0;
}

function waitForStopSignal(): Promise<void> {
  return new Promise<void>((done) => {
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      done();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}
