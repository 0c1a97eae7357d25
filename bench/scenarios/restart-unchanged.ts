// Restart on an unchanged, synced tree: the source agent's time to idle, its peak RSS and bytes sent, beside `rsync -an --delete`.
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import type { TestHub } from "../../test/support/fleet.ts";
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
    let source = fleet.startSource();
    const waited = await waitForFiles(replica.root, expected, {
      timeoutMs: options.timeoutMs,
      onProgress: (done) => log(`restartUnchanged: ${done}/${expected.length} files on the replica`),
    });
    if (!waited.ok) throw new Error(`the first sync timed out with ${waited.done} files on the replica`);
    const firstSyncSeconds = round((performance.now() - synced0) / 1000, 1);
    await source.stop();

    // --- peer: rsync's dry run over the same two trees (nothing to do), timed in the same run ------------
    let rsync: Record<string, unknown> = { skipped: options.rsync.available ? "" : options.rsync.reason };
    if (options.rsync.available) {
      const args = ["-an", "--delete", "--exclude=/.fleetsync", `${sourceRoot}/`, `${replica.root}/`];
      const run = await timeCommand(options.rsync.path, args);
      rsync = {
        command: `rsync ${args.slice(0, 3).join(" ")} source/ replica/`,
        seconds: run.code === 0 ? round(run.seconds, 3) : null,
        ...(run.code === 0 ? {} : { error: `exit ${run.code}: ${run.output}` }),
      };
    }

    // --- fleetsync: the source restarts on the unchanged tree ------------------------------------------
    const before = await receivedBytes(fleet.hub);
    log("restartUnchanged: restarting the source agent");
    const t0 = performance.now();
    source = fleet.startSource();
    const sampler = samplePeakRss({ source: source.proc.pid }, 50);
    let doneAt: number | undefined;
    let startedAt: number | undefined;
    const deadline = t0 + options.timeoutMs;
    while (doneAt === undefined && performance.now() < deadline) {
      const out = source.output();
      if (startedAt === undefined && out.includes('"agent started"')) startedAt = performance.now();
      if (out.includes('"full scan finished"')) doneAt = performance.now();
      else await new Promise((r) => setTimeout(r, 10));
    }
    // A report or upload the scan triggered lands before the line; a second more catches stragglers.
    await new Promise((r) => setTimeout(r, 1000));
    const peaks = sampler.stop();
    const sent = bytesDelta(before, await receivedBytes(fleet.hub));
    const lines = logLines(source);
    const scanLine = lines.find((l) => l.msg === "full scan finished");
    const reported = lines.filter((l) => l.msg === "changes reported");
    await source.stop();
    fleet.source.agent = undefined;

    const seconds = doneAt === undefined ? null : (doneAt - t0) / 1000;
    const rsyncSeconds = typeof rsync.seconds === "number" ? rsync.seconds : null;
    const peakMiB = toMiB(peaks.source);
    const ratio = seconds !== null && rsyncSeconds ? round(rsyncSeconds / seconds, 3) : null;
    return {
      description:
        "A synced tree; the source agent stopped and restarted with nothing changed. fleetsync: from spawning the source agent until it logs `full scan finished` (the end of its start-up scan and of any report it made; the watcher is set up before the scan starts). Peak RSS: the source agent, sampled every 50 ms until a second after that line. Bytes sent: request bodies the hub received meanwhile (its /metrics counter). rsync: `rsync -an --delete` of the same two trees in the same run (a dry run that finds nothing to do).",
      files: options.files,
      firstSyncSeconds,
      fleetsync: {
        seconds: seconds === null ? null : round(seconds, 2),
        secondsAfterAgentStarted:
          doneAt !== undefined && startedAt !== undefined ? round((doneAt - startedAt) / 1000, 2) : null,
        scanMs: scanLine?.ms ?? null,
        indexEntries: scanLine?.entries ?? null,
        reports: reported.length,
        peakRssMiB: peakMiB,
        bytesSent: sent,
      },
      rsync,
      ratio: {
        description: "rsync seconds / fleetsync seconds: above 1 = fleetsync faster",
        vsRsyncDryRun: ratio,
      },
      target: {
        target: `restart on an unchanged tree faster than \`rsync -an --delete\`, zero bytes sent, agent RSS < ${RESTART_RSS_LIMIT_MIB} MiB`,
        faster: ratio === null ? null : ratio > 1,
        nothingSent: sent.reportsAndBlocks === 0,
        rssBelowLimit: peakMiB !== null && peakMiB < RESTART_RSS_LIMIT_MIB,
        pass:
          ratio !== null && ratio > 1 && sent.reportsAndBlocks === 0 && peakMiB !== null
            ? peakMiB < RESTART_RSS_LIMIT_MIB
            : false,
        ...(seconds !== null && rsyncSeconds !== null && seconds > rsyncSeconds
          ? { missedBySeconds: round(seconds - rsyncSeconds, 2) }
          : {}),
      },
    };
  } finally {
    await fleet?.stop().catch(() => {});
    await rm(base, { recursive: true, force: true });
    forgetBase();
  }
}
