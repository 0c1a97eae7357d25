// Runs the Workers build of the hub locally under workerd (Miniflare, as wrangler dev does): D1, R2 and Durable Objects under DATA.
import { execFile } from "node:child_process";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { ADMIN_TOKEN_PREFIX } from "../hub/services/initialize-hub.ts";
import { toHex } from "../shared/blocks/hex.ts";
import { startLocalCronTriggers } from "./local-cron-triggers.ts";

const REPO_ROOT = fileURLToPath(new URL("..", import.meta.url));
export const WRANGLER_CONFIG = join(REPO_ROOT, "wrangler.toml");
/** wrangler bundles, then workerd starts; on a busy Pi-class machine that takes a while. */
const START_TIMEOUT_MS = 180_000;

export type WorkersHubOptions = {
  dataDir: string;
  host: string;
  /** 0 picks a free one. */
  port: number;
  /** Enrolment attempts one client address may make per minute (default 20). */
  enrolAttemptsPerMinute?: number;
  /** Called once with the admin token when this start created it. */
  onAdminToken?: (token: string, file: string) => void;
  /** Each line wrangler and the Worker print (its JSON log lines among them). */
  onOutput?: (line: string) => void;
};

export type RunningWorkersHub = { url: string; port: number; pid: number; stop: () => Promise<void> };

/** The wrangler CLI this package pins, or a message saying how to get it. */
export function wranglerBin(): string {
  try {
    return createRequire(join(REPO_ROOT, "package.json")).resolve("wrangler/bin/wrangler.js");
  } catch (error) {
    throw new Error(
      "fleetsync hub --workers needs wrangler (4.86, a dev dependency of fleetsync): run npm install in the fleetsync checkout",
      { cause: error },
    );
  }
}

/** Wrangler talks to nobody but the local machine: no telemetry, update check, cf.json download or account. */
export function localWranglerEnv(stateDir: string, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...base,
    WRANGLER_SEND_METRICS: "false",
    WRANGLER_SEND_ERROR_REPORTS: "false",
    WRANGLER_HIDE_BANNER: "true",
    CLOUDFLARE_CF_FETCH_ENABLED: "false",
    WRANGLER_LOG_PATH: join(stateDir, "logs"),
    XDG_CONFIG_HOME: join(stateDir, "config"),
    NO_COLOR: "1",
  };
  for (const name of [
    "CLOUDFLARE_API_TOKEN",
    "CLOUDFLARE_API_KEY",
    "CLOUDFLARE_EMAIL",
    "CLOUDFLARE_ACCOUNT_ID",
  ]) {
    delete env[name];
  }
  return env;
}

async function freePort(host: string): Promise<number> {
  const server = createServer();
  await new Promise<void>((done, fail) => {
    server.once("error", fail);
    server.listen(0, host, done);
  });
  const address = server.address();
  await new Promise((done) => server.close(done));
  if (typeof address !== "object" || !address) throw new Error(`no free port on ${host}`);
  return address.port;
}

/** DATA/admin.token as the Node hub keeps it: created (0600) on the first start, reused after. */
async function adminTokenFor(dataDir: string, onAdminToken: WorkersHubOptions["onAdminToken"]) {
  const file = join(dataDir, "admin.token");
  const existing = (await readFile(file, "utf8").catch(() => "")).trim();
  if (existing) return existing;
  const token = `${ADMIN_TOKEN_PREFIX}${toHex(crypto.getRandomValues(new Uint8Array(24)))}`;
  await writeFile(file, `${token}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
  onAdminToken?.(token, file);
  return token;
}

export async function startWorkersHub(options: WorkersHubOptions): Promise<RunningWorkersHub> {
  const wrangler = wranglerBin();
  const dataDir = resolve(options.dataDir);
  const stateDir = join(dataDir, "workers");
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const adminToken = await adminTokenFor(dataDir, options.onAdminToken);
  // The secret reaches the Worker through an env file, never the command line (which `ps` shows).
  const envFile = join(stateDir, "hub.env");
  const vars = [`ADMIN_TOKEN=${adminToken}`];
  if (options.enrolAttemptsPerMinute)
    vars.push(`ENROL_ATTEMPTS_PER_MINUTE=${options.enrolAttemptsPerMinute}`);
  await writeFile(envFile, `${vars.join("\n")}\n`, { mode: 0o600 });
  await chmod(envFile, 0o600);
  const env = localWranglerEnv(stateDir);
  const common = ["-c", WRANGLER_CONFIG, "--persist-to", join(stateDir, "state")];

  await promisify(execFile)(
    process.execPath,
    [wrangler, "d1", "migrations", "apply", "DB", "--local", ...common],
    { cwd: REPO_ROOT, env, timeout: START_TIMEOUT_MS },
  ).catch((error: Error & { stdout?: string; stderr?: string }) => {
    throw new Error(
      `applying the D1 migrations under ${stateDir} failed: ${error.message}\n${error.stdout ?? ""}${error.stderr ?? ""}`,
      { cause: error },
    );
  });

  // Bundled once, then served as is: a hub is not a dev session, so an edit in the checkout never reloads it
  // (wrangler dev's own bundler watches the sources and restarts the Worker mid-request).
  // FLEETSYNC_WORKERS_BUNDLE names a bundle already built from this checkout (the e2e suite against Workers builds
  // one per test file rather than one per hub start).
  const prebuilt = process.env.FLEETSYNC_WORKERS_BUNDLE;
  const buildDir = prebuilt ? resolve(prebuilt) : join(stateDir, "build");
  if (!prebuilt) await bundleWorker(wrangler, buildDir, env);

  const port = options.port === 0 ? await freePort(options.host) : options.port;
  // The bundle runs straight in workerd through Miniflare, with the bindings wrangler.toml declares. Not through
  // `wrangler dev`: its proxy in front of the Worker stopped answering anything, /healthz included, with 2,000
  // long-polls parked, and once left a commit's answer hanging for minutes.
  const { Miniflare } = await import("miniflare");
  const { unstable_getMiniflareWorkerOptions, unstable_readConfig } = await import("wrangler");
  const { workerOptions } = unstable_getMiniflareWorkerOptions(WRANGLER_CONFIG);
  const crons = unstable_readConfig({ config: WRANGLER_CONFIG }).triggers?.crons ?? [];
  const secrets: Record<string, string> = { ADMIN_TOKEN: adminToken };
  if (options.enrolAttemptsPerMinute)
    secrets.ENROL_ATTEMPTS_PER_MINUTE = String(options.enrolAttemptsPerMinute);
  const forward = (stream: NodeJS.ReadableStream) => {
    let rest = "";
    stream.on("data", (chunk: Buffer) => {
      const lines = (rest + chunk.toString()).split("\n");
      rest = lines.pop() ?? "";
      for (const line of lines) if (line.trim()) options.onOutput?.(line);
    });
  };
  const miniflare = new Miniflare({
    ...(workerOptions as Record<string, unknown>),
    name: "fleetsync-hub",
    modules: true,
    scriptPath: join(buildDir, "main.worker.js"),
    modulesRoot: buildDir,
    bindings: { ...(workerOptions.bindings ?? {}), ...secrets },
    host: options.host,
    port,
    // Where `wrangler d1 migrations apply --persist-to` put the database (its v3 layout).
    defaultPersistRoot: join(stateDir, "state", "v3"),
    handleRuntimeStdio: (stdout: NodeJS.ReadableStream, stderr: NodeJS.ReadableStream) => {
      forward(stdout);
      forward(stderr);
    },
  } as ConstructorParameters<typeof Miniflare>[0]);
  const url = `http://${options.host.includes(":") ? `[${options.host}]` : options.host}:${port}`;
  let stopped: Promise<void> | undefined;
  let stopCrons = () => {};
  const stop = () => {
    stopCrons();
    stopped ??= miniflare.dispose().catch(() => {});
    return stopped;
  };
  try {
    await miniflare.ready;
    await waitUntilHealthy(url);
    // Cloudflare fires the cron triggers (alert checks, GC); under local workerd nobody would, so this process does.
    const worker = await miniflare.getWorker();
    stopCrons = startLocalCronTriggers({
      crons,
      fire: async (cron, scheduledTime) => {
        const result = await worker.scheduled({ cron, scheduledTime });
        if (result.outcome !== "ok")
          throw new Error(`the scheduled handler ended with outcome ${result.outcome}`);
      },
      onError: (cron, error) =>
        options.onOutput?.(
          JSON.stringify({ level: "error", msg: "cron trigger failed", cron, error: String(error) }),
        ),
    });
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, port, pid: process.pid, stop };
}

/** `wrangler deploy --dry-run`: the Worker and its imports as one module in `buildDir`, nothing uploaded. */
export async function bundleWorker(
  wrangler: string,
  buildDir: string,
  env: NodeJS.ProcessEnv,
): Promise<void> {
  await promisify(execFile)(
    process.execPath,
    [wrangler, "deploy", "--dry-run", "--outdir", buildDir, "-c", WRANGLER_CONFIG],
    { cwd: REPO_ROOT, env, timeout: START_TIMEOUT_MS },
  ).catch((error: Error & { stdout?: string; stderr?: string }) => {
    throw new Error(
      `bundling the Worker into ${buildDir} failed: ${error.message}\n${error.stdout ?? ""}${error.stderr ?? ""}`,
      { cause: error },
    );
  });
}

async function waitUntilHealthy(url: string) {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (true) {
    const ok = await fetch(`${url}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    if (Date.now() > deadline)
      throw new Error(`the Workers hub did not answer ${url}/healthz within ${START_TIMEOUT_MS} ms`);
    await new Promise((done) => setTimeout(done, 250));
  }
}
