// Restart on an unchanged, synced tree: the source agent's time to idle, its peak RSS and bytes sent, beside `rsync -an --delete`.
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { bundleAgent } from "../../scripts/bundle-agent.ts";
import { REPO_ROOT, startAgent, type TestHub } from "../../test/support/fleet.ts";
import { type BenchFleet, logLines, startBenchFleet } from "../support/bench-fleet.ts";
import { onInterrupt } from "../support/cleanup.ts";
import { syncDisks, type ToolInfo, timeCommand } from "../support/peers.ts";
import { samplePeakRss, toMiB } from "../support/procfs.ts";
import { log, round } from "../support/stats.ts";
import { waitForFiles, writeManySmallTree } from "../support/tree.ts";

export type RestartUnchangedOptions = {
  tmpRoot: string;
  files: number;
  /** Bytes per file (the figure is about file count, not volume). */
  fileBytes: number;
  debounceMs: number;
  timeoutMs: number;
  rsync: ToolInfo;
  /** Rounds of (rsync, the bundled agent, the baseline) on the same synced tree; the first also runs the CLI. */
  rounds?: number;
  /** Another agent bundle (a .cjs made by scripts/bundle-agent.ts from another checkout) measured beside ours. */
  baselineAgent?: string;
};

/** The target: restart faster than `rsync -an --delete`, nothing sent, agent RSS below this. */
export const RESTART_RSS_LIMIT_MIB = 150;

/** Request body bytes the hub received so far, per route (its /metrics counter), read with the admin token. */
async function receivedBytes(hub: TestHub): Promise<Record<string, number>> {
  const text = await (
    await fetch(`${hub.url}/metrics`, { headers: { authorization: `Bearer ${hub.adminToken}` } })
  ).text();
  const out: Record<string, number> = {};
  for (const line of text.split("\n")) {
    const match = /^fleetsync_http_received_bytes_total\{method="(\w+)",route="([^"]+)"\} (\d+)/.exec(line);
    if (match) out[`${match[1]} ${match[2]}`] = Number(match[3]);
  }
  return out;
}

function bytesDelta(before: Record<string, number>, after: Record<string, number>) {
  const byRoute: Record<string, number> = {};
  for (const [route, value] of Object.entries(after)) {
    const delta = value - (before[route] ?? 0);
    if (delta > 0) byRoute[route] = delta;
  }
  const total = Object.values(byRoute).reduce((s, v) => s + v, 0);
  const changes = Object.entries(byRoute)
    .filter(([route]) => route.includes("/reports") || route.includes("/blocks"))
    .reduce((s, [, v]) => s + v, 0);
  return { total, reportsAndBlocks: changes, byRoute };
}

type Restart = {
  seconds: number | null;
  secondsAfterAgentStarted: number | null;
  scanMs: number | null;
  indexEntries: number | null;
  reports: number;
  peakRssMiB: number | null;
  bytesSent: ReturnType<typeof bytesDelta>;
};

/** Starts the (stopped) source agent on its unchanged tree and measures it until its start-up scan is done. */
async function measureRestart(fleet: BenchFleet, timeoutMs: number, command?: string[]): Promise<Restart> {
  const before = await receivedBytes(fleet.hub);
  log(`restartUnchanged: restarting the source agent${command ? " (bundled)" : ""}`);
  const t0 = performance.now();
  const source = startAgent(fleet.source.stateDir, {}, command ? { command } : {});
  fleet.source.agent = source;
  const sampler = samplePeakRss({ source: source.proc.pid }, 50);
  let doneAt: number | undefined;
  let startedAt: number | undefined;
  while (doneAt === undefined && performance.now() < t0 + timeoutMs) {
    if (source.proc.exitCode !== null) throw new Error(`the source agent exited: ${source.output()}`);
    const out = source.output();
    if (startedAt === undefined && out.includes('"agent started"')) startedAt = performance.now();
    if (out.includes('"full scan finished"')) doneAt = performance.now();
    else await new Promise((r) => setTimeout(r, 10));
  }
  // A report or upload the scan triggered lands before the line; a second more catches stragglers.
  await new Promise((r) => setTimeout(r, 1000));
  const peaks = sampler.stop();
  const bytesSent = bytesDelta(before, await receivedBytes(fleet.hub));
  const lines = logLines(source);
  const scanLine = lines.find((l) => l.msg === "full scan finished");
  await source.stop();
  fleet.source.agent = undefined;
  return {
    seconds: doneAt === undefined ? null : round((doneAt - t0) / 1000, 2),
    secondsAfterAgentStarted:
      doneAt !== undefined && startedAt !== undefined ? round((doneAt - startedAt) / 1000, 2) : null,
    scanMs: typeof scanLine?.ms === "number" ? scanLine.ms : null,
    indexEntries: typeof scanLine?.entries === "number" ? scanLine.entries : null,
    reports: lines.filter((l) => l.msg === "changes reported").length,
    peakRssMiB: toMiB(peaks.source),
    bytesSent,
  };
}

export async function runRestartUnchanged(options: RestartUnchangedOptions) {
  const base = await mkdtemp(join(options.tmpRoot, "fleetsync-bench-restart-"));
  const forgetBase = onInterrupt(() => rm(base, { recursive: true, force: true }));
  const sourceRoot = join(base, "source");
  await mkdir(sourceRoot);
  let fleet: BenchFleet | undefined;
  try {
    log(`restartUnchanged: writing ${options.files} files of ${options.fileBytes} bytes`);
    const expected = await writeManySmallTree(sourceRoot, options.files * options.fileBytes, options.files);
    await syncDisks();
    fleet = await startBenchFleet({ base, sourceRoot, replicas: 1, debounceMs: options.debounceMs });
    const replica = fleet.replicas[0]!;
    log("restartUnchanged: first sync source → replica");
    const synced0 = performance.now();
    const source = fleet.startSource();
    const waited = await waitForFiles(replica.root, expected, {
      timeoutMs: options.timeoutMs,
      onProgress: (done) => log(`restartUnchanged: ${done}/${expected.length} files on the replica`),
    });
    if (!waited.ok) throw new Error(`the first sync timed out with ${waited.done} files on the replica`);
    const firstSyncSeconds = round((performance.now() - synced0) / 1000, 1);
    await source.stop();

    // --- peer: rsync's dry run over the same two trees (nothing to do), timed in the same run ------------
    const timeRsync = async (): Promise<Record<string, unknown>> => {
      if (!options.rsync.available) return { skipped: options.rsync.reason };
      const args = ["-an", "--delete", "--exclude=/.fleetsync", `${sourceRoot}/`, `${replica.root}/`];
      const run = await timeCommand(options.rsync.path, args);
      return {
        command: `rsync ${args.slice(0, 3).join(" ")} source/ replica/`,
        seconds: run.code === 0 ? round(run.seconds, 3) : null,
        ...(run.code === 0 ? {} : { error: `exit ${run.code}: ${run.output}` }),
      };
    };
    const rsync = await timeRsync();

    // --- fleetsync: the source restarts on the unchanged tree, as the repo's CLI and as the shipped bundle ---------
    const asCli = await measureRestart(fleet, options.timeoutMs);
    const bundle = join(base, "agent.cjs");
    await bundleAgent({ repoRoot: REPO_ROOT, outFile: bundle, version: "bench" });
    const asBundle = await measureRestart(fleet, options.timeoutMs, [process.execPath, bundle]);
    const baseline = options.baselineAgent
      ? await measureRestart(fleet, options.timeoutMs, [process.execPath, options.baselineAgent])
      : undefined;
    // Further rounds on the same tree, each with its own rsync figure: compare within a round, never across.
    const rounds = [
      { rsyncSeconds: rsync.seconds ?? null, bundled: asBundle, ...(baseline ? { baseline } : {}) },
    ];
    for (let r = 1; r < (options.rounds ?? 1); r++) {
      const again = await timeRsync();
      const bundled = await measureRestart(fleet, options.timeoutMs, [process.execPath, bundle]);
      const other = options.baselineAgent
        ? await measureRestart(fleet, options.timeoutMs, [process.execPath, options.baselineAgent])
        : undefined;
      rounds.push({ rsyncSeconds: again.seconds ?? null, bundled, ...(other ? { baseline: other } : {}) });
    }

    const rsyncSeconds = typeof rsync.seconds === "number" ? rsync.seconds : null;
    const ratio = (run: Restart) =>
      run.seconds !== null && rsyncSeconds ? round(rsyncSeconds / run.seconds, 3) : null;
    const verdict = (run: Restart) => {
      const r = ratio(run);
      const rssBelowLimit = run.peakRssMiB !== null && run.peakRssMiB < RESTART_RSS_LIMIT_MIB;
      const nothingSent = run.bytesSent.reportsAndBlocks === 0;
      return {
        faster: r === null ? null : r > 1,
        nothingSent,
        rssBelowLimit,
        pass: r !== null && r > 1 && nothingSent && rssBelowLimit,
        ...(run.seconds !== null && rsyncSeconds !== null && run.seconds > rsyncSeconds
          ? { missedBySeconds: round(run.seconds - rsyncSeconds, 2) }
          : {}),
      };
    };
    return {
      description:
        "A synced tree; the source agent stopped and restarted with nothing changed, twice: as the repo's CLI (node + the tsx loader, as the other scenarios run it) and as the bundled agent (scripts/bundle-agent.ts, what the executables ship; no TypeScript loader). seconds: from spawning the agent until it logs `full scan finished` (the end of its start-up scan and of any report it made; the watcher is set up before the scan starts). Peak RSS: the agent, sampled every 50 ms until a second after that line. Bytes sent: request bodies the hub received meanwhile (its /metrics counter; reportsAndBlocks must be 0). rsync: `rsync -an --delete` of the same two trees in the same run (a dry run that finds nothing to do).",
      files: options.files,
      firstSyncSeconds,
      fleetsync: asCli,
      fleetsyncBundled: asBundle,
      ...(baseline ? { baselineBundled: { agent: options.baselineAgent, ...baseline } } : {}),
      rsync,
      ...(rounds.length > 1 || baseline
        ? {
            rounds: rounds.map((r) => ({
              rsyncSeconds: r.rsyncSeconds,
              bundledSeconds: r.bundled.seconds,
              bundledScanMs: r.bundled.scanMs,
              bundledPeakRssMiB: r.bundled.peakRssMiB,
              bundledBytesSent: r.bundled.bytesSent.reportsAndBlocks,
              ...(r.baseline
                ? {
                    baselineSeconds: r.baseline.seconds,
                    baselineScanMs: r.baseline.scanMs,
                    baselinePeakRssMiB: r.baseline.peakRssMiB,
                    baselineBytesSent: r.baseline.bytesSent.reportsAndBlocks,
                  }
                : {}),
            })),
          }
        : {}),
      ratio: {
        description: "rsync seconds / fleetsync seconds: above 1 = fleetsync faster",
        cliVsRsyncDryRun: ratio(asCli),
        bundledVsRsyncDryRun: ratio(asBundle),
      },
      target: {
        target: `restart on an unchanged tree faster than \`rsync -an --delete\`, zero bytes sent, agent RSS < ${RESTART_RSS_LIMIT_MIB} MiB (verdict on the bundled agent, as shipped; the CLI's beside it)`,
        ...verdict(asBundle),
        cli: verdict(asCli),
      },
    };
  } finally {
    await fleet?.stop().catch(() => {});
    await rm(base, { recursive: true, force: true });
    forgetBase();
  }
}
