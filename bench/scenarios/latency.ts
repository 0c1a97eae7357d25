// Change-to-replica latency: one small file written at a time on the source, timed until it is complete on every replica.
import { randomBytes } from "node:crypto";
import { type FSWatcher, watch } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { waitFor } from "../../test/support/fleet.ts";
import { type BenchFleet, logLines, startBenchFleet } from "../support/bench-fleet.ts";
import { onInterrupt } from "../support/cleanup.ts";
import { profileEnv, summarizeFleetProfiles } from "../support/cpu-profile.ts";
import { measureIdle } from "../support/idle.ts";
import type { ToolInfo } from "../support/peers.ts";
import { log, round, summarize } from "../support/stats.ts";
import { runSyncthingLatency } from "./syncthing-peer.ts";

export type LatencyOptions = {
  tmpRoot: string;
  replicas: number;
  changes: number;
  warmup: number;
  debounceMs: number;
  fileBytes: number;
  idleWaitMs: number;
  cpuWindowMs: number;
  /** When set, hub and agents run under the V8 CPU profiler and write their profiles under this directory. */
  profileDir?: string;
  /** Measured the same way after fleetsync, between two Syncthing instances, when available. */
  syncthing?: ToolInfo;
};

/** Issue 10's targets: p50 ≤ debounce + 30 ms, p99 ≤ debounce + 150 ms. */
export const LATENCY_P50_SLACK_MS = 30;
export const LATENCY_P99_SLACK_MS = 150;

const CHANGE_TIMEOUT_MS = 15_000;
const POLL_FALLBACK_MS = 20;

type Change = {
  name: string;
  content: Buffer;
  t0: number;
  seenAt: (number | undefined)[];
  checking: boolean[];
  done: () => void;
};

export async function runLatency(options: LatencyOptions) {
  const base = await mkdtemp(join(options.tmpRoot, "fleetsync-bench-latency-"));
  const forgetBase = onInterrupt(() => rm(base, { recursive: true, force: true }));
  const sourceRoot = join(base, "source");
  await mkdir(sourceRoot);
  let fleet: BenchFleet | undefined;
  const watchers: FSWatcher[] = [];
  try {
    log(
      `latency: starting hub, 1 source and ${options.replicas} replicas (debounce ${options.debounceMs} ms)`,
    );
    fleet = await startBenchFleet({
      base,
      sourceRoot,
      replicas: options.replicas,
      debounceMs: options.debounceMs,
      env: options.profileDir ? profileEnv(join(options.profileDir, "latency")) : undefined,
    });
    const source = fleet.startSource();
    await waitFor(() => source.output().includes('"agent started"'), {
      timeoutMs: 30_000,
      what: "the source agent",
    });
    // Give the initial scan and the watcher a moment: a change before the watcher is ready would only be seen by a rescan.
    await new Promise((r) => setTimeout(r, 1000));

    const replicas = fleet.replicas;
    let current: Change | undefined;
    const detectedBy = { watch: 0, poll: 0 };
    const check = (i: number, at: number, how: "watch" | "poll") => {
      const change = current;
      if (!change || change.seenAt[i] !== undefined || change.checking[i]) return;
      change.checking[i] = true;
      readFile(join(replicas[i]!.root, change.name))
        .then((bytes) => {
          if (change.seenAt[i] === undefined && bytes.equals(change.content)) {
            change.seenAt[i] = at;
            detectedBy[how]++;
            if (change.seenAt.every((t) => t !== undefined)) change.done();
          }
        })
        .catch(() => {})
        .finally(() => {
          change.checking[i] = false;
        });
    };
    replicas.forEach((replica, i) => {
      // The replica renames each finished file into place, so an event for the final name means it is complete.
      watchers.push(
        watch(replica.root, (_event, filename) => {
          if (current && filename === current.name) check(i, performance.now(), "watch");
        }),
      );
    });
    const poller = setInterval(() => {
      if (!current) return;
      for (let i = 0; i < replicas.length; i++)
        if (current.seenAt[i] === undefined) check(i, performance.now(), "poll");
    }, POLL_FALLBACK_MS);

    const total = options.warmup + options.changes;
    const measured: { everyReplica: number; perReplica: number[]; wallT0: number }[] = [];
    let timedOut = 0;
    const spacingMs = options.debounceMs + 300;
    try {
      for (let n = 0; n < total; n++) {
        const name = `change-${String(n).padStart(4, "0")}.bin`;
        const content = randomBytes(options.fileBytes);
        let done!: () => void;
        const arrived = new Promise<void>((resolve) => {
          done = resolve;
        });
        const change: Change = {
          name,
          content,
          t0: 0,
          seenAt: replicas.map(() => undefined),
          checking: replicas.map(() => false),
          done,
        };
        current = change;
        const wallT0 = Date.now();
        change.t0 = performance.now();
        await writeFile(join(sourceRoot, name), content);
        let timeout: NodeJS.Timeout | undefined;
        const timer = new Promise<"timeout">((r) => {
          timeout = setTimeout(() => r("timeout"), CHANGE_TIMEOUT_MS);
        });
        const outcome = await Promise.race([arrived.then(() => "ok" as const), timer]);
        clearTimeout(timeout);
        if (n >= options.warmup) {
          if (outcome === "ok") {
            const perReplica = change.seenAt.map((t) => t! - change.t0);
            measured.push({ everyReplica: Math.max(...perReplica), perReplica, wallT0 });
          } else timedOut++;
        }
        if ((n + 1) % 10 === 0) log(`latency: ${n + 1}/${total} changes`);
        // Keep changes apart so each one is its own debounce window and report.
        const wait = change.t0 + spacingMs - performance.now();
        current = undefined;
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
    } finally {
      clearInterval(poller);
    }

    // Split each change at the hub's commit (its log line, ms precision): source side vs delivery side.
    const commits = logLines(fleet.hub)
      .filter((l) => l.msg === "report committed")
      .map((l) => Date.parse(l.time));
    const writeToCommit: number[] = [];
    const commitToEveryReplica: number[] = [];
    for (const m of measured) {
      const commit = commits.find((c) => c >= m.wallT0 && c <= m.wallT0 + m.everyReplica + 1);
      if (commit === undefined) continue;
      writeToCommit.push(commit - m.wallT0);
      commitToEveryReplica.push(m.everyReplica - (commit - m.wallT0));
    }

    // The agents' own timings for the measured changes (warm-up changes dropped).
    const reportMs = logLines(source)
      .filter((l) => l.msg === "changes reported")
      .slice(options.warmup)
      .map((l) => Number(l.ms));
    const applyMs = replicas.flatMap((r) =>
      logLines(r.agent!)
        .filter((l) => l.msg === "instruction applied")
        .slice(options.warmup)
        .map((l) => Number(l.ms)),
    );

    log(
      `latency: measuring idle agents (${options.idleWaitMs / 1000} s wait, ${options.cpuWindowMs / 1000} s CPU window)`,
    );
    const idle = await measureIdle(
      {
        source: source.proc.pid,
        ...Object.fromEntries(replicas.map((r, i) => [`replica${i + 1}`, r.agent!.proc.pid])),
        hub: fleet.hub.proc.pid,
      },
      options.idleWaitMs,
      options.cpuWindowMs,
    );

    await fleet.stop();
    fleet = undefined;
    const profiles = options.profileDir
      ? await summarizeFleetProfiles(join(options.profileDir, "latency"), ["source", "replica1", "hub"])
      : undefined;

    const everyReplica = summarize(measured.map((m) => m.everyReplica));
    let syncthing: Record<string, unknown> | undefined;
    if (options.syncthing?.available) {
      syncthing = await runSyncthingLatency({
        binary: options.syncthing.path,
        version: options.syncthing.version,
        base,
        changes: options.changes,
        warmup: options.warmup,
        fileBytes: options.fileBytes,
        changeTimeoutMs: CHANGE_TIMEOUT_MS,
      }).catch((error: unknown) => ({ error: String(error) }));
    } else if (options.syncthing) syncthing = { skipped: options.syncthing.reason };
    const syncthingP50 = (syncthing?.everyReplicaMs as { p50?: number | null } | undefined)?.p50 ?? null;
    return {
      description:
        "One small file written on the source at a time; time from just before the write starts until the file is present with full content on each replica (fs.watch on each replica root, 20 ms stat poll as fallback). Real hub and agent processes on 127.0.0.1.",
      replicas: options.replicas,
      changes: options.changes,
      warmupDiscarded: options.warmup,
      fileBytes: options.fileBytes,
      debounceMs: options.debounceMs,
      spacingMs,
      timedOut,
      percentileMethod: "nearest rank",
      targetP50Ms: options.debounceMs + LATENCY_P50_SLACK_MS,
      targetP99Ms: options.debounceMs + LATENCY_P99_SLACK_MS,
      everyReplicaMs: everyReplica,
      perReplicaMs: replicas.map((_, i) => summarize(measured.map((m) => m.perReplica[i]!))),
      pooledMs: summarize(measured.flatMap((m) => m.perReplica)),
      breakdown: {
        description:
          "writeToHubCommit: from the write until the hub logged the commit (includes the debounce); hubCommitToEveryReplica: the rest, until the file is on every replica (ms-precision log clock). From the agents' own logs (ms fields): source = after the debounce flush: scan dirty paths → report → upload missing blocks → report again → state saved; replica = verified instruction → file written, fsynced, renamed → state saved → ack answered (the file is in place before the ack, so this overstates the replica's share of the latency).",
        writeToHubCommitMs: summarize(writeToCommit),
        hubCommitToEveryReplicaMs: summarize(commitToEveryReplica),
        sourceReportMs: summarize(reportMs),
        replicaApplyMs: summarize(applyMs),
      },
      detectedBy,
      ...(syncthing ? { syncthing } : {}),
      ratio: {
        description: "Syncthing's p50 / fleetsync's p50 (every replica): above 1 = fleetsync faster",
        vsSyncthingP50: syncthingP50 && everyReplica.p50 ? round(syncthingP50 / everyReplica.p50, 2) : null,
      },
      idle,
      ...(profiles ? { profiles } : {}),
    };
  } finally {
    for (const w of watchers) w.close();
    await fleet?.stop();
    await rm(base, { recursive: true, force: true });
    forgetBase();
  }
}
