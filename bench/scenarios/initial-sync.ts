// Initial sync of a pre-filled tree to an empty replica, beside rsync and Syncthing of the same tree in the same run.
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { snapshotTree } from "../../test/support/fleet.ts";
import { type BenchFleet, type LogLine, logLines, startBenchFleet } from "../support/bench-fleet.ts";
import { onInterrupt } from "../support/cleanup.ts";
import { profileEnv, summarizeFleetProfiles } from "../support/cpu-profile.ts";
import { measureIdle } from "../support/idle.ts";
import { initialSyncTarget } from "../support/initial-sync-target.ts";
import { startRsyncDaemon, syncDisks, type ToolInfo, timeCommand } from "../support/peers.ts";
import { readCpuMs, readMachineBusyMs, samplePeakRss, toMiB } from "../support/procfs.ts";
import { log, mibPerSecond, round } from "../support/stats.ts";
import {
  diffDigests,
  type ExpectedFile,
  sizeOfFile,
  waitForFiles,
  writeManySmallTree,
  writeOneLargeFile,
} from "../support/tree.ts";
import { runSyncthingInitialSync } from "./syncthing-peer.ts";

export type InitialSyncOptions = {
  tmpRoot: string;
  kind: "manySmall" | "oneLarge";
  totalBytes: number;
  files: number;
  debounceMs: number;
  idleWaitMs: number;
  cpuWindowMs: number;
  timeoutMs: number;
  rsync: ToolInfo;
  syncthing: ToolInfo;
  /** When set, hub and agents run under the V8 CPU profiler and write their profiles under this directory. */
  profileDir?: string;
};

type PeerRun = {
  command: string;
  seconds: number | null;
  mibPerS: number | null;
  syncAfterSeconds?: number | null;
  secondsIncludingSync?: number | null;
  mibPerSIncludingSync?: number | null;
  machineCpuSeconds?: number | null;
  identical?: boolean;
  error?: string;
};

async function runPeer(
  label: string,
  command: string,
  args: string[],
  totalBytes: number,
  verify: () => Promise<string[]>,
): Promise<PeerRun> {
  log(`${label}: ${command} ${args.join(" ")}`);
  await syncDisks();
  const busyBefore = await readMachineBusyMs();
  const run = await timeCommand(command, args);
  const busyAfter = await readMachineBusyMs();
  const syncAfter = await syncDisks();
  const shown = `${command.split("/").at(-1)} ${args.map((a) => a.replace(/^\/.*\/(rsync-[^/]+|source)\/$/, "$1/")).join(" ")}`;
  if (run.code !== 0)
    return { command: shown, seconds: null, mibPerS: null, error: `exit ${run.code}: ${run.output}` };
  const problems = await verify();
  return {
    command: shown,
    seconds: round(run.seconds, 2),
    mibPerS: mibPerSecond(totalBytes, run.seconds),
    syncAfterSeconds: round(syncAfter, 2),
    secondsIncludingSync: round(run.seconds + syncAfter, 2),
    mibPerSIncludingSync: mibPerSecond(totalBytes, run.seconds + syncAfter),
    machineCpuSeconds:
      busyAfter === undefined || busyBefore === undefined ? null : round((busyAfter - busyBefore) / 1000, 2),
    identical: problems.length === 0,
    ...(problems.length > 0 ? { error: problems.join("; ") } : {}),
  };
}

function secondsSince(wallT0: number, line: LogLine | undefined): number | null {
  return line ? round((Date.parse(line.time) - wallT0) / 1000, 2) : null;
}

export async function runInitialSync(options: InitialSyncOptions) {
  const base = await mkdtemp(join(options.tmpRoot, `fleetsync-bench-${options.kind}-`));
  const forgetBase = onInterrupt(() => rm(base, { recursive: true, force: true }));
  const sourceRoot = join(base, "source");
  await mkdir(sourceRoot);
  const label = options.kind === "manySmall" ? "initialSyncManySmall" : "initialSyncOneLarge";
  let fleet: BenchFleet | undefined;
  try {
    log(`${label}: writing ${round(options.totalBytes / 1048576, 0)} MiB in ${options.files} file(s)`);
    const generated = performance.now();
    const expected: ExpectedFile[] =
      options.kind === "manySmall"
        ? await writeManySmallTree(sourceRoot, options.totalBytes, options.files)
        : await writeOneLargeFile(sourceRoot, options.totalBytes);
    await syncDisks();
    const generateSeconds = round((performance.now() - generated) / 1000, 1);
    const want = await snapshotTree(sourceRoot);

    // --- peers: rsync of the same tree to fresh directories -------------------------------------------
    const rsync: Record<string, PeerRun | { skipped: string }> = {};
    if (options.rsync.available) {
      const bin = options.rsync.path;
      const verifyAndRemove = (dir: string) => async () => {
        const problems = diffDigests(want, await snapshotTree(dir));
        await rm(dir, { recursive: true, force: true });
        return problems;
      };
      const local = join(base, "rsync-local");
      rsync.local = await runPeer(
        `${label} rsync local`,
        bin,
        ["-a", `${sourceRoot}/`, `${local}/`],
        options.totalBytes,
        verifyAndRemove(local),
      );
      const fsynced = join(base, "rsync-fsync");
      rsync.localFsync = await runPeer(
        `${label} rsync local --fsync`,
        bin,
        ["-a", "--fsync", `${sourceRoot}/`, `${fsynced}/`],
        options.totalBytes,
        verifyAndRemove(fsynced),
      );
      const moduleRoot = join(base, "rsyncd");
      await mkdir(moduleRoot);
      try {
        const daemon = await startRsyncDaemon(bin, base, moduleRoot);
        try {
          rsync.daemon = await runPeer(
            `${label} rsync daemon`,
            bin,
            ["-a", `${sourceRoot}/`, daemon.url("rsync-daemon/")],
            options.totalBytes,
            verifyAndRemove(join(moduleRoot, "rsync-daemon")),
          );
        } finally {
          await daemon.stop();
        }
      } catch (error) {
        rsync.daemon = { skipped: String(error) };
      }
    }

    // --- peer: Syncthing, two instances on loopback ----------------------------------------------------
    let syncthing: Record<string, unknown>;
    if (options.syncthing.available) {
      await syncDisks();
      syncthing = await runSyncthingInitialSync({
        binary: options.syncthing.path,
        version: options.syncthing.version,
        base,
        sourceRoot,
        expected,
        want,
        totalBytes: options.totalBytes,
        timeoutMs: options.timeoutMs,
        label,
      }).catch((error: unknown) => ({ seconds: null, mibPerS: null, error: String(error) }));
    } else syncthing = { skipped: options.syncthing.reason };

    // --- fleetsync: hub + replica ready, then the source agent starts on the full tree --------------------
    await syncDisks();
    const profileDir = options.profileDir ? join(options.profileDir, label) : undefined;
    fleet = await startBenchFleet({
      base,
      sourceRoot,
      replicas: 1,
      debounceMs: options.debounceMs,
      env: profileDir ? profileEnv(profileDir) : undefined,
    });
    const replica = fleet.replicas[0]!;
    const pids = {
      source: undefined as number | undefined,
      replica: replica.agent!.proc.pid,
      hub: fleet.hub.proc.pid,
    };
    const cpuBefore = {
      replica: await readCpuMs(pids.replica),
      hub: await readCpuMs(pids.hub),
      machine: await readMachineBusyMs(),
    };
    log(`${label}: fleetsync: starting the source agent`);
    const wallT0 = Date.now();
    const t0 = performance.now();
    const source = fleet.startSource();
    pids.source = source.proc.pid;
    const sampler = samplePeakRss(pids, 100);
    const waited = await waitForFiles(replica.root, expected, {
      timeoutMs: options.timeoutMs,
      onProgress: (done) => log(`${label}: fleetsync: ${done}/${expected.length} files on the replica`),
    });
    const t1 = performance.now();
    const peaks = sampler.stop();
    const cpuAfter = {
      source: await readCpuMs(pids.source),
      replica: await readCpuMs(pids.replica),
      hub: await readCpuMs(pids.hub),
      machine: await readMachineBusyMs(),
    };
    const seconds = (t1 - t0) / 1000;
    const delta = (after: number | undefined, before: number | undefined) =>
      after === undefined || before === undefined ? null : round((after - before) / 1000, 2);
    const ours = {
      source: delta(cpuAfter.source, 0),
      replica: delta(cpuAfter.replica, cpuBefore.replica),
      hub: delta(cpuAfter.hub, cpuBefore.hub),
    };
    const machine = delta(cpuAfter.machine, cpuBefore.machine);
    const cpuDuringSync = {
      description:
        "user+system CPU seconds each process used between the source agent's spawn and completion; machine = every process on this 2-core machine, other = machine minus ours (anything else running disturbs the figures)",
      ...ours,
      machine,
      other:
        machine === null
          ? null
          : round(machine - (ours.source ?? 0) - (ours.replica ?? 0) - (ours.hub ?? 0), 2),
    };
    log(
      `${label}: fleetsync: ${waited.ok ? `complete in ${seconds.toFixed(1)} s` : `timed out with ${waited.done} files`}`,
    );

    log(`${label}: measuring idle agents`);
    const idle = await measureIdle(pids, options.idleWaitMs, options.cpuWindowMs);
    // Logs are read after the idle wait: the replica logs an instruction only after acknowledging it.
    const sourceLogs = logLines(source);
    const hubLogs = logLines(fleet.hub);
    const replicaLogs = logLines(replica.agent!);
    const started = sourceLogs.find((l) => l.msg === "agent started");
    const reported = sourceLogs.find((l) => l.msg === "changes reported");
    const commits = hubLogs.filter((l) => l.msg === "report committed");
    const applied = replicaLogs.filter((l) => l.msg === "instruction applied");
    const startupSeconds = secondsSince(wallT0, started);

    const hubDb = {
      mainMiB: toMiB(await sizeOfFile(join(fleet.hub.dataDir, "hub.db"))),
      walMiB: toMiB(await sizeOfFile(join(fleet.hub.dataDir, "hub.db-wal"))),
    };
    const problems = waited.ok ? diffDigests(want, await snapshotTree(replica.root)) : ["timed out"];
    const warnings = [...sourceLogs, ...replicaLogs, ...hubLogs]
      .filter((l) => l.level === "warn" || l.level === "error")
      .slice(0, 5)
      .map((l) => l.msg);

    await fleet.stop();
    fleet = undefined;
    const profiles = profileDir
      ? await summarizeFleetProfiles(profileDir, ["source", "replica1", "hub"])
      : undefined;

    const peerSeconds = (name: string) => {
      const run = rsync[name];
      return run && "seconds" in run ? run.seconds : null;
    };
    const ratio = (peer: number | null) => (peer && waited.ok ? round(peer / seconds, 3) : null);
    const syncthingSeconds = typeof syncthing.seconds === "number" ? syncthing.seconds : null;
    const fleetMibPerS = waited.ok ? mibPerSecond(options.totalBytes, seconds) : null;
    const fsyncRun = rsync.localFsync;
    return {
      description:
        options.kind === "manySmall"
          ? "Initial sync of a tree of random-content files to an empty replica. fleetsync: from spawning the source agent (hub and replica already running and idle) until every file is on the replica with its full size (then checked byte for byte, untimed). rsync: the same tree to a fresh local directory in the same run. Syncthing: the receiver instance running and idle, timed from spawning the source instance on the full tree until every file is on the receiver (then checked byte for byte, untimed), in the same run."
          : "Initial sync of one large random-content file, measured like initialSyncManySmall.",
      files: options.files,
      bytes: options.totalBytes,
      mib: round(options.totalBytes / 1048576, 1),
      generateSeconds,
      pageCache:
        "source tree written just before, so every run reads it from the page cache; `sync` before and after each run",
      fleetsync: {
        seconds: waited.ok ? round(seconds, 2) : null,
        mibPerS: waited.ok ? mibPerSecond(options.totalBytes, seconds) : null,
        secondsAfterAgentStartup:
          waited.ok && startupSeconds !== null ? round(seconds - startupSeconds, 2) : null,
        identical: problems.length === 0,
        ...(problems.length > 0 ? { error: problems.join("; ") } : {}),
        ...(waited.ok ? {} : { filesOnReplica: waited.done }),
        debounceMs: options.debounceMs,
        timelineSeconds: {
          description: "seconds after spawning the source agent, from the processes' JSON logs",
          sourceAgentStarted: startupSeconds,
          firstReportCommitted: secondsSince(wallT0, commits[0]),
          lastReportCommitted: secondsSince(wallT0, commits.at(-1)),
          sourceDone: secondsSince(wallT0, reported),
          firstInstructionApplied: secondsSince(wallT0, applied[0]),
          lastInstructionApplied: secondsSince(wallT0, applied.at(-1)),
          replicaComplete: waited.ok ? round(seconds, 2) : null,
        },
        source: {
          reportedEntries: reported?.entries ?? null,
          hashedBytes: reported?.hashedBytes ?? null,
          uploadedBlocks: reported?.uploadedBlocks ?? null,
          uploadedBytes: reported?.uploadedBytes ?? null,
          scanAndReportMs: reported?.ms ?? null,
        },
        hubCommits: commits.length,
        replicaInstructions: applied.length,
        replicaApplyMsTotal: applied.reduce((s, l) => s + Number(l.ms ?? 0), 0),
        cpuSecondsDuringSync: cpuDuringSync,
        peakRssMiB: { source: toMiB(peaks.source), replica: toMiB(peaks.replica), hub: toMiB(peaks.hub) },
        idle,
        hubDb,
        warnings,
        ...(profiles ? { profiles } : {}),
      },
      rsync: options.rsync.available
        ? {
            description:
              "local: rsync -a between two local directories (whole-file copies, nothing fsynced; the peer the target names). localFsync: the same with --fsync, every file fsynced as fleetsync's replica does. daemon: rsync -a to an rsync daemon on 127.0.0.1 over its own TCP protocol, like fleetsync's loopback HTTP. secondsIncludingSync adds a `sync` right after, which flushes what rsync left in the page cache.",
            ...rsync,
          }
        : { skipped: options.rsync.reason },
      syncthing,
      ratio: {
        description:
          "peer seconds / fleetsync seconds (= fleetsync's throughput / the peer's): 1.0 = same throughput, above 1 = fleetsync faster",
        vsSyncthing: ratio(syncthingSeconds),
        vsRsyncLocal: ratio(peerSeconds("local")),
        vsRsyncLocalFsync: ratio(peerSeconds("localFsync")),
        vsRsyncDaemon: ratio(peerSeconds("daemon")),
      },
      target: initialSyncTarget({
        fleetsyncMiBPerS: fleetMibPerS,
        syncthingMiBPerS: typeof syncthing.mibPerS === "number" ? syncthing.mibPerS : null,
        rsyncFsyncMiBPerS: fsyncRun && "mibPerS" in fsyncRun ? fsyncRun.mibPerS : null,
      }),
    };
  } finally {
    await fleet?.stop().catch(() => {});
    await rm(base, { recursive: true, force: true });
    forgetBase();
  }
}
