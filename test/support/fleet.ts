// Test support: real hub and agent processes on 127.0.0.1 in temp directories, and helpers to wait and compare trees.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream, existsSync, rmSync } from "node:fs";
import { cp, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { parse, stringify } from "yaml";
import { enrollDevice } from "../../agent/enroll-device.ts";
import { bundleWorker, localWranglerEnv, WRANGLER_CONFIG, wranglerBin } from "../../cli/start-workers-hub.ts";

export const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const CLI = join(REPO_ROOT, "bin", "fleetsync.js");

export async function makeTempDir(prefix = "fleetsync-test-"): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export type RunningProcess = {
  proc: ChildProcess;
  output: () => string;
  /** SIGTERM and wait for exit (SIGKILL after `graceMs`). */
  stop: (graceMs?: number) => Promise<number | null>;
  kill: () => Promise<void>;
  exited: Promise<number | null>;
};

/** Every child still running is killed when the test process exits, so a failed test leaks no hub or agent. */
const children = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of children) child.kill("SIGKILL");
});

export function spawnCli(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): RunningProcess {
  return superviseProcess(
    spawn(process.execPath, [CLI, ...args], {
      cwd: options.cwd ?? REPO_ROOT,
      env: { ...process.env, ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
    }),
  );
}

/** Collects a child's output, and stops it on request (or with the test process). */
export function superviseProcess(proc: ChildProcess): RunningProcess {
  children.add(proc);
  proc.once("exit", () => children.delete(proc));
  let output = "";
  proc.stdout?.on("data", (chunk) => {
    output += chunk;
  });
  proc.stderr?.on("data", (chunk) => {
    output += chunk;
  });
  // "close" rather than "exit": it fires only once stdout and stderr are fully read.
  const exited = new Promise<number | null>((resolve) => proc.once("close", (code) => resolve(code)));
  return {
    proc,
    output: () => output,
    exited,
    async stop(graceMs = 10_000) {
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
      proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), graceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
    async kill() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill("SIGKILL");
      await exited;
    },
  };
}

/** Runs a CLI command to completion. */
export async function runCli(args: string[], options: { env?: NodeJS.ProcessEnv } = {}) {
  const running = spawnCli(args, options);
  const code = await running.exited;
  return { code, output: running.output() };
}

export async function waitFor<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  options: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  let lastError: unknown;
  let hasLastCheckThrown = false;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value as T;
      hasLastCheckThrown = false;
    } catch (error) {
      lastError = error;
      hasLastCheckThrown = true;
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 50));
  }
  // An error from an earlier check is not why the last one failed: say which it was.
  const why = !lastError
    ? ""
    : hasLastCheckThrown
      ? `: ${String(lastError)}`
      : ` (the last check found it not yet so; an earlier one threw ${String(lastError)})`;
  throw new Error(`timed out waiting for ${options.what ?? "a condition"}${why}`);
}

export type TestHub = RunningProcess & { url: string; dataDir: string; adminToken: string };
/** Which hub a test runs: the Node hub, or its Workers build under local workerd (`fleetsync hub --workers`). */
export type HubKind = "node" | "workers";

/** FLEETSYNC_TEST_HUB as a hub kind: unset means the Node hub; anything but node or workers is a mistake. */
export function parseHubKind(value: string | undefined): HubKind {
  if (value === undefined || value === "" || value === "node") return "node";
  if (value === "workers") return "workers";
  throw new Error(
    `FLEETSYNC_TEST_HUB=${value} is not a hub kind; use FLEETSYNC_TEST_HUB=workers (the Workers build under workerd) or leave it unset (the Node hub)`,
  );
}

/**
 * The hub every test gets unless it names one: `FLEETSYNC_TEST_HUB=workers npx vitest run test/e2e` runs the whole
 * e2e suite against `fleetsync hub --workers`. The two-hub files (workers-*.test.ts) name their kinds and ignore it.
 */
export const TEST_HUB_KIND: HubKind = parseHubKind(process.env.FLEETSYNC_TEST_HUB);

/**
 * True when this run's hub is the Workers build. The few tests about the Node hub process itself start with
 * `skip(ON_WORKERS_HUB, "why")` (vitest's test-context skip), so the reason shows beside every skip.
 */
export const ON_WORKERS_HUB = TEST_HUB_KIND === "workers";

let workersTemplate: Promise<string> | undefined;
/**
 * Where the built template is, for the processes a test starts that import this file too (the demo): they start
 * their Workers hubs from the test file's template instead of bundling and migrating again.
 */
const WORKERS_TEMPLATE_ENV = "FLEETSYNC_TEST_WORKERS_TEMPLATE";

/**
 * One Worker bundle and one migrated, empty local D1 per test file, built the way `hub --workers` builds them: each
 * fresh Workers hub starts from a copy (its own start still checks the migrations) instead of bundling and migrating
 * again, which costs a minute on a busy 2-core machine. Only under FLEETSYNC_TEST_HUB=workers: the two-hub files in
 * the default run keep the whole start path.
 */
function workersHubTemplate(): Promise<string> {
  const inherited = process.env[WORKERS_TEMPLATE_ENV];
  if (inherited) workersTemplate ??= Promise.resolve(inherited);
  workersTemplate ??= (async () => {
    const dir = await makeTempDir("fleetsync-workers-template-");
    process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
    const env = localWranglerEnv(dir);
    await bundleWorker(wranglerBin(), join(dir, "build"), env);
    await promisify(execFile)(
      process.execPath,
      [
        wranglerBin(),
        "d1",
        "migrations",
        "apply",
        "DB",
        "--local",
        "-c",
        WRANGLER_CONFIG,
        "--persist-to",
        join(dir, "state"),
      ],
      { cwd: REPO_ROOT, env, timeout: 300_000 },
    );
    process.env[WORKERS_TEMPLATE_ENV] = dir;
    return dir;
  })();
  return workersTemplate;
}

// The template is built before a file's first test, so no test's own timeout pays for it. Only in a Vitest worker
// itself: a script a test runs (the demo) inherits VITEST from it, but has no suite to register a hook in.
if ("__vitest_worker__" in globalThis && TEST_HUB_KIND === "workers") {
  const { beforeAll } = await import("vitest");
  beforeAll(() => workersHubTemplate().then(() => undefined), 600_000);
}

export async function startHubProcess(
  dataDir?: string,
  env: NodeJS.ProcessEnv = {},
  port = 0,
  kind: HubKind = TEST_HUB_KIND,
  /** `args`: more `fleetsync hub` flags (e.g. `--enrol-limit`). */
  options: { args?: string[] } = {},
): Promise<TestHub> {
  const dir = dataDir ?? (await makeTempDir("fleetsync-hub-"));
  const args = ["hub", "--data", dir, "--port", String(port), ...(kind === "workers" ? ["--workers"] : [])];
  args.push(...(options.args ?? []));
  const hubEnv = { ...env };
  if (kind === "workers" && TEST_HUB_KIND === "workers") {
    const template = await workersHubTemplate();
    if (!existsSync(join(dir, "workers", "state"))) {
      await mkdir(join(dir, "workers"), { recursive: true, mode: 0o700 });
      await cp(join(template, "state"), join(dir, "workers", "state"), { recursive: true });
    }
    hubEnv.FLEETSYNC_WORKERS_BUNDLE = join(template, "build");
  }
  const running = spawnCli(args, { env: hubEnv });
  const url = await waitFor(
    () => {
      if (running.proc.exitCode !== null) throw new Error(`hub exited: ${running.output()}`);
      return /ready at (http:\/\/\S+)/.exec(running.output())?.[1];
    },
    // wrangler bundles the Worker and starts workerd first.
    { timeoutMs: kind === "workers" ? 180_000 : 20_000, what: "the hub to start" },
  );
  const adminToken = (await readFile(join(dir, "admin.token"), "utf8")).trim();
  if (kind === "workers") {
    // workerd runs as the hub command's child: a SIGKILLed hub takes it down too, as a crashed Node hub takes its
    // server, instead of leaving it serving the port and the state the restarted hub needs.
    // A stopped one leaves none behind either (Miniflare's exit hook exits without waiting for workerd), so a test
    // that removes the data dir right after does not race workerd's last writes.
    const withTree =
      <A extends unknown[], R>(end: (...args: A) => Promise<R>) =>
      async (...args: A): Promise<R> => {
        const tree = await descendantPids(running.proc.pid);
        const result = await end(...args);
        for (const pid of tree) {
          try {
            process.kill(pid, "SIGKILL");
          } catch {
            // already gone
          }
        }
        return result;
      };
    running.kill = withTree(running.kill);
    running.stop = withTree(running.stop);
  }
  return { ...running, url, dataDir: dir, adminToken };
}

/** Every process below `pid` (Linux /proc), children before their own children. */
async function descendantPids(pid: number | undefined): Promise<number[]> {
  if (pid === undefined) return [];
  const parents = new Map<number, number[]>();
  for (const name of await readdir("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const stat = await readFile(`/proc/${name}/stat`, "utf8").catch(() => "");
    // pid (comm) state ppid …: comm may hold spaces and parentheses, so read after the last ")".
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    if (Number.isInteger(ppid)) parents.set(ppid, [...(parents.get(ppid) ?? []), Number(name)]);
  }
  const out: number[] = [];
  for (let queue = [pid]; queue.length > 0; ) {
    const children = queue.flatMap((p) => parents.get(p) ?? []);
    out.push(...children);
    queue = children;
  }
  return out;
}

const STALE_CONNECTION_CODES = new Set(["UND_ERR_SOCKET", "ECONNRESET", "EPIPE"]);

/**
 * fetch from the test process to a hub. A kept-alive connection the hub has closed (workerd does this after a large
 * request, and drops several at once under load) fails the next request on it, as UND_ERR_SOCKET or as a plain
 * ECONNRESET; a GET is sent again once on a new connection, as HTTP clients do for idempotent requests.
 */
export async function fetchFromHub(url: string | URL, init: RequestInit = {}): Promise<Response> {
  const send = () => fetch(url, init);
  return send().catch((error: unknown) => {
    const code = (error as { cause?: { code?: string } }).cause?.code;
    const isGet = (init.method ?? "GET").toUpperCase() === "GET";
    if (isGet && code !== undefined && STALE_CONNECTION_CODES.has(code)) return send();
    throw error;
  });
}

export async function adminCall(
  hub: { url: string; adminToken: string },
  method: string,
  path: string,
  body?: unknown,
) {
  const response = await fetchFromHub(new URL(path, hub.url), {
    method,
    headers: {
      authorization: `Bearer ${hub.adminToken}`,
      ...(body ? { "content-type": "application/json" } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = (await response.json()) as Record<string, unknown>;
  if (!response.ok) throw new Error(`${method} ${path} → ${response.status} ${JSON.stringify(json)}`);
  return json;
}

export async function createShare(
  hub: TestHub,
  name: string,
  policy: { deletes?: string; conflicts?: string; storage?: string } = {},
) {
  return adminCall(hub, "POST", "/v1/admin/shares", { name, ...policy });
}

export async function mintToken(hub: TestHub, shares: { name: string; role: string }[], ttl = "1h") {
  const answer = await adminCall(hub, "POST", "/v1/admin/tokens", { shares, ttl });
  return answer.token as string;
}

export type AgentSettings = {
  debounceMs?: number;
  dryRun?: boolean;
  deletes?: "propagate" | "keep";
  ignore?: string[];
  level?: "debug" | "info";
  rescanMinutes?: number;
};

/** Enrolls an agent (the agent's own enrolment code, in-process) and tunes its agent.yaml. */
export async function enrollAgent(
  hub: TestHub,
  share: string,
  role: "source" | "replica" | "peer",
  root: string,
  settings: AgentSettings = {},
) {
  const stateDir = await makeTempDir(`fleetsync-${role}-state-`);
  const token = await mintToken(hub, [{ name: share, role }]);
  await enrollDevice({
    hub: hub.url,
    token,
    stateDir,
    name: `${role}-${stateDir.slice(-6)}`,
    paths: { [share]: root },
  });
  const file = join(stateDir, "agent.yaml");
  const config = parse(await readFile(file, "utf8"));
  config.defaults = {
    debounceMs: settings.debounceMs ?? 100,
    ...(settings.ignore ? { ignore: settings.ignore } : {}),
    ...(settings.rescanMinutes !== undefined ? { rescanMinutes: settings.rescanMinutes } : {}),
  };
  if (settings.dryRun !== undefined) config.shares[share].dryRun = settings.dryRun;
  if (settings.deletes) config.shares[share].deletes = settings.deletes;
  config.log = { level: settings.level ?? "debug", destination: "stdout" };
  await writeFile(file, stringify(config));
  return { stateDir, deviceId: config.deviceId as string };
}

/** `options.command`: run the agent with this argv head (e.g. a built executable) instead of the repo's CLI. */
export function startAgent(
  stateDir: string,
  env: NodeJS.ProcessEnv = {},
  options: { command?: string[] } = {},
): RunningProcess {
  const args = ["agent", "run", "--state", stateDir];
  if (!options.command) return spawnCli(args, { env });
  const [file, ...head] = options.command;
  return superviseProcess(
    spawn(file!, [...head, ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    }),
  );
}

export type TreeItem = {
  type: "file" | "dir" | "symlink";
  mode: number;
  mtimeMs?: number;
  sha256?: string;
  /** Only in a snapshot taken without hashes. */
  size?: number;
  target?: string;
};

async function hashFileStreaming(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) hash.update(chunk);
  return hash.digest("hex");
}

/**
 * Everything under `root` except `.fleetsync/`, with streamed content hashes, for byte-for-byte comparison.
 * `hashes: false` gives each file its size in place of its hash: a cheap look that tells trees apart but never
 * proves them equal.
 */
export async function snapshotTree(
  root: string,
  options: { hashes?: boolean } = {},
): Promise<Record<string, TreeItem>> {
  const out: Record<string, TreeItem> = {};
  const walk = async (dir: string, rel: string) => {
    for (const name of (await readdir(dir)).sort()) {
      if (rel === "" && name === ".fleetsync") continue;
      const abs = join(dir, name);
      const path = rel ? `${rel}/${name}` : name;
      const st = await lstat(abs);
      if (st.isDirectory()) {
        out[path] = { type: "dir", mode: st.mode & 0o7777 };
        await walk(abs, path);
      } else if (st.isSymbolicLink()) {
        out[path] = { type: "symlink", mode: 0, target: await readlink(abs) };
      } else if (st.isFile()) {
        out[path] = {
          type: "file",
          mode: st.mode & 0o7777,
          mtimeMs: Math.floor(st.mtimeMs),
          ...(options.hashes === false ? { size: st.size } : { sha256: await hashFileStreaming(abs) }),
        };
      }
    }
  };
  await walk(root, "");
  return out;
}

export async function treesEqual(a: string, b: string): Promise<boolean> {
  return JSON.stringify(await snapshotTree(a)) === JSON.stringify(await snapshotTree(b));
}

/** Files in a tree whose names mark them as our temp files (there must be none after convergence). */
export async function findTempFiles(root: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string) => {
    for (const dirent of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      const abs = join(dir, dirent.name);
      if (dirent.isDirectory()) await walk(abs);
      else if (/^\.fleetsync\..*\.tmp$/.test(dirent.name)) found.push(abs);
    }
  };
  await walk(root);
  return found;
}

export type Fleet = {
  hub: TestHub;
  share: string;
  sourceRoot: string;
  source: { stateDir: string; deviceId: string; agent: RunningProcess };
  replicas: { root: string; stateDir: string; deviceId: string; agent: RunningProcess }[];
  stop: () => Promise<void>;
};

/** A hub, one source and `replicaCount` replicas, all real processes; call stop() in afterEach. */
export async function startFleet(
  options: {
    replicas?: number;
    share?: string;
    source?: AgentSettings;
    replica?: AgentSettings;
    deletes?: string;
    hub?: HubKind;
    /**
     * A hub already running (see startSharedHub): the fleet gets a share of its own there (name it with `share`)
     * instead of a hub process of its own, and stop() leaves the hub running.
     */
    onHub?: TestHub;
  } = {},
): Promise<Fleet> {
  const ownHub = options.onHub === undefined;
  const hub = options.onHub ?? (await startHubProcess(undefined, {}, 0, options.hub ?? TEST_HUB_KIND));
  const share = options.share ?? "docs";
  const base = await makeTempDir("fleetsync-fleet-");
  const sourceRoot = join(base, "source");
  const replicas: Fleet["replicas"] = [];
  let src: Awaited<ReturnType<typeof enrollAgent>>;
  try {
    await createShare(hub, share, options.deletes ? { deletes: options.deletes } : {});
    await mkdir(sourceRoot);
    src = await enrollAgent(hub, share, "source", sourceRoot, options.source);
    for (let i = 0; i < (options.replicas ?? 2); i++) {
      const root = join(base, `replica-${i + 1}`);
      const enrolled = await enrollAgent(hub, share, "replica", root, options.replica);
      replicas.push({ root, ...enrolled, agent: startAgent(enrolled.stateDir) });
    }
  } catch (error) {
    await Promise.all([ownHub ? hub.kill() : undefined, ...replicas.map((r) => r.agent.kill())]);
    throw error;
  }
  const source = { ...src, agent: startAgent(src.stateDir) };
  const fleet: Fleet = {
    hub,
    share,
    sourceRoot,
    source,
    replicas,
    // Tests swap in restarted processes (fleet.hub = …, replica.agent = …): stop whatever runs now.
    async stop() {
      await Promise.all([fleet.source.agent.stop(), ...fleet.replicas.map((r) => r.agent.stop())]);
      if (ownHub) await fleet.hub.stop();
      await rm(base, { recursive: true, force: true });
      if (ownHub) await rm(fleet.hub.dataDir, { recursive: true, force: true });
    },
  };
  return fleet;
}

/**
 * One hub for a whole test file, for fleets started with `onHub` (start it in beforeAll, removeHub in afterAll): a hub
 * start is the slowest step of a fleet's start on a loaded machine, and a file's tests need a share of their own, not a
 * hub of their own. Its enrolment limit is raised, since every test enrols its agents from the same address.
 */
export function startSharedHub(): Promise<TestHub> {
  return startHubProcess(undefined, {}, 0, TEST_HUB_KIND, { args: ["--enrol-limit", "10000"] });
}

/** Stops a hub and removes its data directory. */
export async function removeHub(hub: TestHub | undefined): Promise<void> {
  if (!hub) return;
  await hub.stop();
  await rm(hub.dataDir, { recursive: true, force: true });
}

/** Points an enrolled agent at another URL for the same hub (a proxy, or the hub on a new port). */
export async function setAgentHub(stateDir: string, url: string): Promise<void> {
  const file = join(stateDir, "agent.yaml");
  const config = parse(await readFile(file, "utf8"));
  config.hub = url;
  await writeFile(file, stringify(config));
}

export async function writeFiles(root: string, files: Record<string, string | Buffer>): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    const abs = join(root, path);
    await mkdir(join(abs, ".."), { recursive: true });
    await writeFile(abs, content);
  }
}

/** Waits until every replica's tree equals the source's (modes, mtimes, bytes, links). */
export async function waitForConvergence(fleet: Fleet, timeoutMs = 90_000): Promise<void> {
  const allMatch = async (hashes: boolean) => {
    const want = JSON.stringify(await snapshotTree(fleet.sourceRoot, { hashes }));
    for (const replica of fleet.replicas) {
      // A walk that fails (a file vanished under it while the replica applies) is "not yet", never "empty".
      const got = await snapshotTree(replica.root, { hashes }).catch(() => undefined);
      if (got === undefined || JSON.stringify(got) !== want) return false;
    }
    return true;
  };
  await waitFor(
    // Sizes and times first, contents only once those match: hashing every tree on every poll (150 MB a poll in
    // the 50 MB test) kept a third of a core busy on a 2-core machine, slowing the very agents and hub it waits for.
    async () => (await allMatch(false)) && allMatch(true),
    { timeoutMs, intervalMs: 100, what: "replicas to converge with the source" },
  );
}

export type CliResult = { code: number | null; stdout: string; stderr: string };

/** Runs a CLI command to completion with stdout and stderr kept apart (for "prints only X" checks). */
export async function runCliCaptured(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<CliResult> {
  const running = spawnCli(args, options);
  let stdout = "";
  let stderr = "";
  running.proc.stdout?.on("data", (chunk) => {
    stdout += chunk;
  });
  running.proc.stderr?.on("data", (chunk) => {
    stderr += chunk;
  });
  // "close" rather than "exit": it fires only after stdout and stderr are fully read.
  const code = await new Promise<number | null>((resolve) => running.proc.once("close", (c) => resolve(c)));
  return { code, stdout, stderr };
}

/** Resident set size of a process in bytes (Linux /proc), or undefined once it has exited. */
export async function readRssBytes(pid: number | undefined): Promise<number | undefined> {
  if (pid === undefined) return undefined;
  const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => "");
  const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
  return kb === undefined ? undefined : Number(kb) * 1024;
}

/** Samples the peak RSS of some processes every `intervalMs` until stopped. */
export function samplePeakRss(pids: Record<string, number | undefined>, intervalMs = 100) {
  const peaks: Record<string, number> = Object.fromEntries(Object.keys(pids).map((k) => [k, 0]));
  const timer = setInterval(async () => {
    for (const [name, pid] of Object.entries(pids)) {
      const rss = await readRssBytes(pid);
      if (rss !== undefined && rss > (peaks[name] ?? 0)) peaks[name] = rss;
    }
  }, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      return peaks;
    },
  };
}

/** agent.yaml as plain data, for tests that tune settings the enrolment helpers do not cover. */
export type EditableAgentConfig = {
  defaults: Record<string, unknown>;
  shares: Record<string, Record<string, unknown>>;
  [key: string]: unknown;
};

/** Edits an enrolled agent's agent.yaml in place (restart the agent for it to take effect). */
export async function updateAgentConfig(
  stateDir: string,
  mutate: (config: EditableAgentConfig) => void,
): Promise<void> {
  const file = join(stateDir, "agent.yaml");
  const config = parse(await readFile(file, "utf8")) as EditableAgentConfig;
  config.defaults ??= {};
  mutate(config);
  await writeFile(file, stringify(config));
}

export type TrashItem = { path: string; type: "file" | "dir" | "symlink"; content?: string; target?: string };

/** Everything in a share's trash (`<root>/.fleetsync/trash/<stamp>/...`), with the stamp folder stripped. */
export async function listTrash(root: string): Promise<TrashItem[]> {
  const out: TrashItem[] = [];
  const walk = async (dir: string, rel: string) => {
    for (const dirent of (await readdir(dir, { withFileTypes: true }).catch(() => [])).sort((a, b) =>
      a.name < b.name ? -1 : 1,
    )) {
      const abs = join(dir, dirent.name);
      const path = rel ? `${rel}/${dirent.name}` : dirent.name;
      const inStamp = path.slice(path.indexOf("/") + 1);
      if (dirent.isDirectory()) {
        if (rel !== "") out.push({ path: inStamp, type: "dir" });
        await walk(abs, path);
      } else if (dirent.isSymbolicLink()) {
        out.push({ path: inStamp, type: "symlink", target: await readlink(abs) });
      } else if (rel !== "") {
        out.push({ path: inStamp, type: "file", content: await readFile(abs, "utf8") });
      }
    }
  };
  await walk(join(root, ".fleetsync", "trash"), "");
  return out;
}

/**
 * True when this machine lets a process get its own user namespace with its own inotify watch limit
 * (`unshare -Ur` and a writable /proc/sys/user/max_inotify_watches inside it).
 */
export async function canLimitInotifyWatches(): Promise<boolean> {
  const proc = spawn("unshare", ["-Ur", "sh", "-c", "echo 100 > /proc/sys/user/max_inotify_watches"], {
    stdio: "ignore",
  });
  return new Promise((resolve) => {
    proc.once("error", () => resolve(false));
    proc.once("exit", (code) => resolve(code === 0));
  });
}

/**
 * Starts an agent in its own user namespace whose inotify watch limit is `maxWatches` (Linux ≥ 4.9 counts
 * inotify watches per user namespace: /proc/sys/user/max_inotify_watches). Only this process is limited;
 * the machine's fs.inotify settings and every other process are untouched.
 */
export function startAgentWithInotifyLimit(stateDir: string, maxWatches: number): RunningProcess {
  const script = `echo ${Math.floor(maxWatches)} > /proc/sys/user/max_inotify_watches && exec "$0" "$@"`;
  return superviseProcess(
    spawn(
      "unshare",
      ["-Ur", "sh", "-c", script, process.execPath, CLI, "agent", "run", "--state", stateDir],
      {
        cwd: REPO_ROOT,
        env: process.env,
        stdio: ["ignore", "pipe", "pipe"],
      },
    ),
  );
}
