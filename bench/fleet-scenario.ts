// The fleet benchmark: N simulated agents (real device keys, signed requests, many per process) wait on one hub — long-polls, or wake sockets where the hub offers them; one commit; how fast every agent has its instruction.
import { setMaxListeners } from "node:events";
import { readdir, readFile, rm, writeFile } from "node:fs/promises";
import { type CryptoKey, exportJWK, generateKeyPair } from "jose";
import WebSocket from "ws";
import { signDeviceJwt } from "../shared/auth/device-jwt.ts";
import { MIN_BLOCK_BYTES } from "../shared/blocks/block-size.ts";
import { contentHash } from "../shared/blocks/content-hash.ts";
import { EnrollResponseSchema } from "../shared/protocol/messages.ts";
import {
  WAKE_MESSAGE,
  WAKE_SOCKETS_HEADER,
  WAKE_SOCKETS_OFFERED,
  wakeSocketPath,
} from "../shared/protocol/wake-sockets.ts";
import {
  adminCall,
  type HubKind,
  makeTempDir,
  readRssBytes,
  spawnCli,
  type TestHub,
  waitFor,
} from "../test/support/fleet.ts";
import { readCpuMs } from "./support/procfs.ts";
import { round, summarize } from "./support/stats.ts";

export type FleetBenchOptions = {
  agents: number;
  hub: HubKind;
  /** Progress lines (stderr in the CLI). */
  log?: (message: string) => void;
  /** Extra environment for the hub process (e.g. the CPU profiler's, see bench/support/cpu-profile.ts). */
  hubEnv?: NodeJS.ProcessEnv;
  /** How long every agent may take to get its instruction before the run counts the rest as errors. */
  dispatchTimeoutMs?: number;
};

export type FleetBenchResult = {
  hub: HubKind;
  agents: number;
  /** How the agents waited: wake sockets (the hub offers them: Workers) or long-polls (the Node hub). */
  waitedOn: "wake sockets" | "long-polls";
  /** Agents that received the commit's instruction. */
  dispatched: number;
  dispatchP50Ms: number | null;
  dispatchP99Ms: number | null;
  dispatchMaxMs: number | null;
  /** The hub's resident memory after dispatch: the Node process, or workerd for the Workers hub. */
  hubRssMiB: number | null;
  /** CPU time the hub's processes used from the commit until every agent had its instruction (less load-bound than time). */
  hubCpuMsDuringDispatch: number | null;
  enrolSeconds: number | null;
  requests: number;
  requestsPerSecond: number | null;
  errors: number;
  firstErrors: string[];
  /** POSTs sent again because wrangler dev's proxy reloaded the Worker under them (local Workers only). */
  reloadRetries: number;
  /** Requests sent again because workerd reset the kept-alive connection they went out on (Workers only). */
  connectionResets: number;
  targets: { name: string; target: string; actual: string; met: boolean; limit?: string }[];
};

/** How many requests the bench has in flight at once while enrolling (the long-polls are all at once). */
const ENROL_CONCURRENCY = 32;
const LONG_POLL_SECONDS = 25;
/** Wake sockets opened at once while the fleet connects, and instruction fetches in flight at once after a wake. */
const SOCKET_CONNECT_CONCURRENCY = 64;
const WOKEN_FETCH_CONCURRENCY = 32;
const RESET_CODES = new Set(["ECONNRESET", "UND_ERR_SOCKET"]);

type SimAgent = { deviceId: string; hubId: string; key: CryptoKey; gotAtMs?: number; socket?: WebSocket };

/** A failed fetch with its cause (undici says only "fetch failed" on its own). */
function describeFetchError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause ? `${String(error)} (${cause.code ?? cause.message})` : String(error);
}

/** At most `limit` of the calls run at once; the rest queue in order. */
function limiter(limit: number) {
  let running = 0;
  const queue: (() => void)[] = [];
  return async <T>(act: () => Promise<T>): Promise<T> => {
    if (running >= limit) await new Promise<void>((resolve) => queue.push(resolve));
    running++;
    try {
      return await act();
    } finally {
      running--;
      queue.shift()?.();
    }
  };
}

async function inBatches<T>(items: T[], size: number, act: (item: T, index: number) => Promise<void>) {
  for (let i = 0; i < items.length; i += size) {
    await Promise.all(items.slice(i, i + size).map((item, j) => act(item, i + j)));
  }
}

/** The hub as a process, with the enrolment limit raised: every simulated agent comes from 127.0.0.1. */
async function startBenchHub(
  kind: HubKind,
  agents: number,
  env: NodeJS.ProcessEnv = {},
): Promise<TestHub & { pid: number }> {
  const dir = await makeTempDir("fleetsync-fleet-bench-");
  const args = ["hub", "--data", dir, "--port", "0", "--enrol-limit", String(agents * 2 + 10)];
  if (kind === "workers") args.push("--workers");
  const running = spawnCli(args, { env });
  const url = await waitFor(
    () => {
      if (running.proc.exitCode !== null) throw new Error(`hub exited: ${running.output()}`);
      return /ready at (http:\/\/\S+)/.exec(running.output())?.[1];
    },
    { timeoutMs: 180_000, what: "the hub to start" },
  );
  const adminToken = (await readFile(`${dir}/admin.token`, "utf8")).trim();
  return { ...running, url, dataDir: dir, adminToken, pid: running.proc.pid ?? 0 };
}

/** A hub counts as idle (every long-poll parked) once it uses less than this share of one core over a window. */
const QUIET_CPU_SHARE = 0.1;
const QUIET_WINDOW_MS = 500;

/**
 * Waits until the hub's processes have gone quiet: every first long-poll authenticated and parked, so the commit
 * measures dispatch and not a queue of polls still being taken in. Gives up after `timeoutMs` (and says so).
 */
async function waitForQuietHub(
  pids: number[],
  timeoutMs: number,
): Promise<{ quiet: boolean; waitedMs: number }> {
  const started = Date.now();
  const cpu = () => hubCpuMs(pids);
  let before = await cpu();
  while (Date.now() - started < timeoutMs) {
    await new Promise((resolve) => setTimeout(resolve, QUIET_WINDOW_MS));
    const after = await cpu();
    if (after - before < QUIET_WINDOW_MS * QUIET_CPU_SHARE)
      return { quiet: true, waitedMs: Date.now() - started };
    before = after;
  }
  return { quiet: false, waitedMs: Date.now() - started };
}

async function hubCpuMs(pids: number[]): Promise<number> {
  let total = 0;
  for (const pid of pids) total += (await readCpuMs(pid)) ?? 0;
  return total;
}

/** The pids below `root` whose command is `name` (workerd runs two levels below the CLI). */
async function descendantsNamed(root: number, name: string): Promise<number[]> {
  const parents = new Map<number, number>();
  const names = new Map<number, string>();
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, "utf8").catch(() => "");
    const close = stat.lastIndexOf(")");
    if (close < 0) continue;
    names.set(Number(entry), stat.slice(stat.indexOf("(") + 1, close));
    parents.set(Number(entry), Number(stat.slice(close + 2).split(" ")[1]));
  }
  const isBelow = (pid: number): boolean => {
    for (let p = parents.get(pid); p !== undefined && p > 1; p = parents.get(p)) if (p === root) return true;
    return false;
  };
  return [...names].filter(([pid, comm]) => comm === name && isBelow(pid)).map(([pid]) => pid);
}

export async function runFleetBench(options: FleetBenchOptions): Promise<FleetBenchResult> {
  const log = options.log ?? (() => {});
  const hub = await startBenchHub(options.hub, options.agents, options.hubEnv);
  let requests = 0;
  let errors = 0;
  const firstErrors: string[] = [];
  const fail = (what: string) => {
    errors++;
    if (firstErrors.length < 5) firstErrors.push(what);
  };
  const stopping = new AbortController();
  // Every simulated agent's requests listen on this one signal: thousands at once are the design, not a leak.
  setMaxListeners(0, stopping.signal);
  let reloadRetries = 0;
  let connectionResets = 0;

  /**
   * wrangler dev's local proxy answers a POST that was in flight while it reloaded the Worker with a 503 of its
   * own (it retries only GET and HEAD); that is the dev server, not the hub: such a request is sent again, and
   * counted apart from errors (`reloadRetries`).
   */
  async function send(url: URL, init: RequestInit): Promise<Response> {
    for (let attempt = 1; ; attempt++) {
      let response: Response;
      try {
        response = await fetch(url, init);
      } catch (error) {
        // workerd resets a kept-alive connection now and then as a request goes out on it (ECONNRESET, "other
        // side closed"); an agent's loop sends again, and so does the bench, counting it apart from errors.
        const code = (error as { cause?: { code?: string } }).cause?.code ?? "";
        if (attempt < 3 && RESET_CODES.has(code) && !init.signal?.aborted) {
          connectionResets++;
          continue;
        }
        throw error;
      }
      if (response.status !== 503 || attempt === 3) return response;
      const text = await response.text();
      if (!text.startsWith("Your worker restarted mid-request")) return new Response(text, response);
      reloadRetries++;
    }
  }

  async function deviceFetch(agent: SimAgent, method: string, target: string, body?: unknown) {
    requests++;
    const path = new URL(target, hub.url).pathname;
    const jwt = await signDeviceJwt(agent.key, {
      deviceId: agent.deviceId,
      hubId: agent.hubId,
      nowSeconds: Math.floor(Date.now() / 1000),
      method,
      path,
    });
    return send(new URL(target, hub.url), {
      method,
      signal: stopping.signal,
      headers: {
        authorization: `Bearer ${jwt}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  }

  async function enrol(token: string, name: string): Promise<SimAgent> {
    const { privateKey, publicKey } = await generateKeyPair("EdDSA", { crv: "Ed25519" });
    const { kty, crv, x } = await exportJWK(publicKey);
    requests++;
    const response = await send(new URL("/v1/enroll", hub.url), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token, publicKey: { kty, crv, x }, name }),
    });
    if (response.status !== 201)
      throw new Error(`enrolling ${name}: ${response.status} ${await response.text()}`);
    const enrolled = EnrollResponseSchema.parse(await response.json());
    return { deviceId: enrolled.deviceId, hubId: enrolled.hubId, key: privateKey };
  }

  try {
    await adminCall(hub, "POST", "/v1/admin/shares", { name: "fleet" });
    const mint = async (role: string) => {
      const response = await send(new URL("/v1/admin/tokens", hub.url), {
        method: "POST",
        headers: { authorization: `Bearer ${hub.adminToken}`, "content-type": "application/json" },
        body: JSON.stringify({ shares: [{ name: "fleet", role }], ttl: "1h" }),
      });
      const text = await response.text();
      if (response.status !== 201)
        throw new Error(`minting a token: ${response.status} ${text.slice(0, 300)}`);
      return (JSON.parse(text) as { token: string }).token;
    };
    const source = await enrol(await mint("source"), "bench-source");

    log(`enrolling ${options.agents} agents on the ${options.hub} hub`);
    const enrolStart = Date.now();
    const agents: SimAgent[] = [];
    await inBatches(
      Array.from({ length: options.agents }, (_, i) => i),
      ENROL_CONCURRENCY,
      async (i) => {
        try {
          requests++;
          agents.push(await enrol(await mint("replica"), `bench-replica-${i}`));
        } catch (error) {
          fail(describeFetchError(error));
        }
      },
    );
    const enrolSeconds = (Date.now() - enrolStart) / 1000;

    // The hub says in its config answer whether it offers wake sockets, as it tells a real agent.
    const config = await deviceFetch(source, "GET", "/v1/config");
    await config.body?.cancel();
    const sockets = config.headers.get(WAKE_SOCKETS_HEADER) === WAKE_SOCKETS_OFFERED;
    log(`${agents.length} agents ${sockets ? "opening wake sockets" : "long-polling"}`);
    let committedAt: number | undefined;
    const fetchWoken = limiter(WOKEN_FETCH_CONCURRENCY);
    /** One `GET /v1/instructions?wait=0`, as a woken agent sends it. */
    const look = (agent: SimAgent) =>
      fetchWoken(async () => {
        if (stopping.signal.aborted || agent.gotAtMs !== undefined) return;
        try {
          const response = await deviceFetch(agent, "GET", "/v1/instructions?wait=0");
          if (!response.ok) return fail(`woken poll: ${response.status} ${await response.text()}`);
          const { instructions } = (await response.json()) as { instructions: string[] };
          if (instructions.length > 0 && committedAt !== undefined) agent.gotAtMs = Date.now();
        } catch (error) {
          if (!stopping.signal.aborted) fail(`woken poll: ${describeFetchError(error)}`);
        }
      });
    let polls: Promise<void>[] = [];
    if (sockets) {
      let opened = 0;
      await inBatches(agents, SOCKET_CONNECT_CONCURRENCY, async (agent) => {
        requests++;
        const path = wakeSocketPath("fleet");
        const jwt = await signDeviceJwt(agent.key, {
          deviceId: agent.deviceId,
          hubId: agent.hubId,
          nowSeconds: Math.floor(Date.now() / 1000),
          method: "GET",
          path,
        });
        const socket = new WebSocket(new URL(path, hub.url), { headers: { authorization: `Bearer ${jwt}` } });
        agent.socket = socket;
        await new Promise<void>((resolve) => {
          // A real agent polls once on opening; these have just enrolled (nothing is pending), so they only wait.
          socket.once("open", () => {
            opened++;
            resolve();
          });
          socket.once("unexpected-response", (_request, response) => {
            fail(`wake socket: the hub answered ${response.statusCode} to the upgrade`);
            response.resume();
            resolve();
          });
          socket.once("error", (error) => {
            fail(`wake socket: ${error.message}`);
            resolve();
          });
          socket.on("message", (data) => {
            if (String(data) === WAKE_MESSAGE) void look(agent);
          });
          socket.once("close", (code) => {
            if (stopping.signal.aborted || agent.gotAtMs !== undefined) return;
            fail(`wake socket closed by the hub (code ${code}) before its instruction came`);
            void look(agent);
          });
        });
      });
      log(`${opened} wake sockets open`);
    } else {
      let firstPollsSent = 0;
      polls = agents.map(async (agent) => {
        let first = true;
        while (!stopping.signal.aborted && agent.gotAtMs === undefined) {
          try {
            const pending = deviceFetch(agent, "GET", `/v1/instructions?wait=${LONG_POLL_SECONDS}`);
            if (first) firstPollsSent++;
            first = false;
            const response = await pending;
            if (!response.ok) {
              fail(`long-poll: ${response.status} ${await response.text()}`);
              continue;
            }
            const { instructions } = (await response.json()) as { instructions: string[] };
            if (instructions.length > 0 && committedAt !== undefined) agent.gotAtMs = Date.now();
          } catch (error) {
            if (!stopping.signal.aborted) fail(`long-poll: ${String(error)}`);
          }
        }
      });
      await waitFor(() => firstPollsSent === agents.length, {
        timeoutMs: 120_000,
        what: "every first long-poll",
      });
    }
    const hubPids = options.hub === "workers" ? await descendantsNamed(hub.pid, "workerd") : [hub.pid];
    const settled = await waitForQuietHub(hubPids, 120_000);
    log(
      settled.quiet
        ? `the hub went quiet ${settled.waitedMs} ms after the last agent started waiting; committing`
        : `the hub was still busy ${settled.waitedMs} ms after the last agent started waiting; committing anyway`,
    );

    const hash = await contentHash(0, MIN_BLOCK_BYTES, []);
    const entry = {
      path: "changed.txt",
      type: "file",
      size: 0,
      mode: 0o644,
      mtimeMs: Date.now(),
      blockSize: MIN_BLOCK_BYTES,
      blocks: [],
      hash,
    };
    const cpuAtCommit = await hubCpuMs(hubPids);
    committedAt = Date.now();
    const committed = await deviceFetch(source, "POST", "/v1/shares/fleet/reports", { entries: [entry] });
    const answer = await committed.text();
    if (!committed.ok || !answer.includes('"accepted"'))
      throw new Error(`commit: ${committed.status} ${answer}`);
    log(`committed one change in ${Date.now() - committedAt} ms; waiting for every agent's instruction`);
    await waitFor(() => agents.every((a) => a.gotAtMs !== undefined), {
      timeoutMs: options.dispatchTimeoutMs ?? Math.max(60_000, options.agents * 50),
      intervalMs: 20,
      what: "every agent's instruction",
    }).catch((error: Error) => fail(error.message));
    const commitDoneAt = Date.now();
    const hubCpuMsDuringDispatch = round((await hubCpuMs(hubPids)) - cpuAtCommit);
    let rss = 0;
    for (const pid of hubPids) rss += (await readRssBytes(pid)) ?? 0;
    stopping.abort();
    for (const agent of agents) agent.socket?.terminate();
    await Promise.allSettled(polls);

    const latencies = agents.filter((a) => a.gotAtMs !== undefined).map((a) => a.gotAtMs! - committedAt!);
    const summary = summarize(latencies);
    const hubRssMiB = hubPids.length ? round(rss / (1024 * 1024)) : null;
    const seconds = (commitDoneAt - enrolStart) / 1000;
    const result: FleetBenchResult = {
      hub: options.hub,
      agents: options.agents,
      waitedOn: sockets ? "wake sockets" : "long-polls",
      dispatched: latencies.length,
      dispatchP50Ms: summary.p50,
      dispatchP99Ms: summary.p99,
      dispatchMaxMs: summary.max,
      hubRssMiB,
      hubCpuMsDuringDispatch,
      enrolSeconds: round(enrolSeconds),
      requests,
      requestsPerSecond: round(requests / seconds),
      errors,
      firstErrors,
      reloadRetries,
      connectionResets,
      targets: [],
    };
    result.targets = verdicts(result);
    if (process.env.FLEET_BENCH_HUB_LOG) await writeFile(process.env.FLEET_BENCH_HUB_LOG, hub.output());
    if (errors > 0) {
      const hubLines = hub.output().split("\n");
      const notable = hubLines.filter((l) => /error|restart|reload|exceeded|✘|fail/i.test(l)).slice(-15);
      log(`the hub's log around the errors:\n${notable.join("\n")}`);
    }
    return result;
  } finally {
    stopping.abort();
    await hub.stop();
    await rm(hub.dataDir, { recursive: true, force: true });
  }
}

/** The design's targets for this run, each with where the limit showed when missed. */
function verdicts(r: FleetBenchResult): FleetBenchResult["targets"] {
  const targets: FleetBenchResult["targets"] = [
    {
      name: "errors",
      target: "0",
      actual: String(r.errors),
      met: r.errors === 0,
      ...(r.errors ? { limit: r.firstErrors[0] ?? "" } : {}),
    },
    {
      name: "every agent got its instruction",
      target: String(r.agents),
      actual: String(r.dispatched),
      met: r.dispatched === r.agents,
    },
  ];
  if (r.hub === "node") {
    const p99 = r.dispatchP99Ms ?? Number.POSITIVE_INFINITY;
    targets.push({
      name: "dispatch p99",
      target: "< 1000 ms",
      actual: `${r.dispatchP99Ms} ms`,
      met: p99 < 1000,
      ...(p99 < 1000
        ? {}
        : {
            limit: `the last agents had their instruction ${r.dispatchP99Ms} ms after the commit (${round(p99 / Math.max(1, r.dispatched), 2)} ms per agent); run again with --profile DIR to see the hub's time by function`,
          }),
    });
    targets.push({
      name: "hub RSS",
      target: "< 300 MiB",
      actual: `${r.hubRssMiB} MiB`,
      met: (r.hubRssMiB ?? Number.POSITIVE_INFINITY) < 300,
    });
  }
  return targets;
}
