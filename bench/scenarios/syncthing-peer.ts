// Syncthing measured like fleetsync: initial sync of the same tree, and change latency, between two loopback instances.
import { randomBytes } from "node:crypto";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { snapshotTree } from "../../test/support/fleet.ts";
import { readCpuMs, samplePeakRss, toMiB } from "../support/procfs.ts";
import { log, mibPerSecond, round, summarize } from "../support/stats.ts";
import { prepareSyncthingPair, SYNCTHING_FOLDER, type SyncthingPair } from "../support/syncthing-pair.ts";
import { diffDigests, type ExpectedFile, waitForFiles } from "../support/tree.ts";

/** The watcher delay the issue names: Syncthing's fastest practical setting (its default is 10 s). */
export const SYNCTHING_WATCHER_DELAY_S = 1;

const SETTLE_TIMEOUT_MS = 60_000;

export type SyncthingInitialSyncOptions = {
  binary: string;
  version: string;
  base: string;
  sourceRoot: string;
  expected: ExpectedFile[];
  /** snapshotTree of the source before Syncthing put its folder marker in it. */
  want: Awaited<ReturnType<typeof snapshotTree>>;
  totalBytes: number;
  timeoutMs: number;
  label: string;
};

async function cpuMsOf(pids: number[]): Promise<number> {
  let total = 0;
  for (const pid of pids) total += (await readCpuMs(pid)) ?? 0;
  return total;
}

const withoutMarker = (tree: Awaited<ReturnType<typeof snapshotTree>>) => {
  const { ".stfolder": _marker, ...rest } = tree;
  return rest;
};

/**
 * Timed like fleetsync's figure: the receiver runs and is idle; the clock starts when the source instance is
 * spawned on the full tree and stops when every file is on the receiver with its full size; then every file is
 * checked byte for byte (untimed) and the folder's completion is read from the source's REST API.
 */
export async function runSyncthingInitialSync(options: SyncthingInitialSyncOptions) {
  const receiverRoot = join(options.base, "syncthing-receiver");
  await mkdir(receiverRoot, { recursive: true });
  let pair: SyncthingPair | undefined;
  try {
    pair = await prepareSyncthingPair({
      binary: options.binary,
      base: options.base,
      sourceRoot: options.sourceRoot,
      receiverRoot,
      watcherDelayS: SYNCTHING_WATCHER_DELAY_S,
    });
    const receiver = await pair.start("receiver");
    const receiverCpuBefore = await cpuMsOf(receiver.pids);
    log(`${options.label}: syncthing: starting the source instance`);
    const t0 = performance.now();
    const source = await pair.start("source");
    const sampler = samplePeakRss({ source: source.worker, receiver: receiver.worker }, 100);
    const waited = await waitForFiles(receiverRoot, options.expected, {
      timeoutMs: options.timeoutMs,
      onProgress: (done) => log(`${options.label}: syncthing: ${done}/${options.expected.length} files`),
    });
    const seconds = (performance.now() - t0) / 1000;
    const peaks = sampler.stop();
    const cpu = {
      source: round((await cpuMsOf(source.pids)) / 1000, 2),
      receiver: round(((await cpuMsOf(receiver.pids)) - receiverCpuBefore) / 1000, 2),
    };
    log(
      `${options.label}: syncthing: ${waited.ok ? `complete in ${seconds.toFixed(1)} s` : `timed out with ${waited.done} files`}`,
    );
    const completion = await pair
      .rest<{ completion: number }>(
        "source",
        `/rest/db/completion?folder=${SYNCTHING_FOLDER}&device=${pair.receiver.device.id}`,
      )
      .then((c) => c.completion)
      .catch(() => null);
    await pair.stop();
    const problems = waited.ok
      ? diffDigests(options.want, withoutMarker(await snapshotTree(receiverRoot)))
      : ["timed out", await pair.logTail("receiver")];
    pair = undefined;
    return {
      version: options.version,
      command: `two syncthing instances on 127.0.0.1, folder sendonly → receiveonly, fsWatcherDelayS=${SYNCTHING_WATCHER_DELAY_S}`,
      seconds: waited.ok ? round(seconds, 2) : null,
      mibPerS: waited.ok ? mibPerSecond(options.totalBytes, seconds) : null,
      identical: problems.length === 0,
      completionPercentAtEnd: completion,
      cpuSecondsDuringSync: cpu,
      peakRssMiB: { source: toMiB(peaks.source), receiver: toMiB(peaks.receiver) },
      ...(problems.length > 0 ? { error: problems.join("; ") } : {}),
      ...(waited.ok ? {} : { filesOnReceiver: waited.done }),
    };
  } finally {
    await pair?.stop();
    // The source tree is shared with the other runs: Syncthing's marker goes, the receiver's copy too.
    await rm(join(options.sourceRoot, ".stfolder"), { recursive: true, force: true });
    await rm(receiverRoot, { recursive: true, force: true });
  }
}

export type SyncthingLatencyOptions = {
  binary: string;
  version: string;
  base: string;
  changes: number;
  warmup: number;
  fileBytes: number;
  changeTimeoutMs: number;
};

/**
 * One small file written on the source at a time; time from just before the write until the receiver reads it
 * back byte-identical (polled every 10 ms). One receiver: Syncthing's figure does not depend on the count here.
 */
export async function runSyncthingLatency(options: SyncthingLatencyOptions) {
  const sourceRoot = join(options.base, "syncthing-latency-source");
  const receiverRoot = join(options.base, "syncthing-latency-receiver");
  await mkdir(sourceRoot, { recursive: true });
  await mkdir(receiverRoot, { recursive: true });
  const pair = await prepareSyncthingPair({
    binary: options.binary,
    base: join(options.base, "syncthing-latency"),
    sourceRoot,
    receiverRoot,
    watcherDelayS: SYNCTHING_WATCHER_DELAY_S,
  });
  try {
    await pair.start("receiver");
    await pair.start("source");
    await pair.waitSettled(SETTLE_TIMEOUT_MS);
    log(`latency: syncthing: pair connected; ${options.warmup + options.changes} changes`);
    const measured: number[] = [];
    let timedOut = 0;
    for (let n = 0; n < options.warmup + options.changes; n++) {
      const name = `change-${String(n).padStart(4, "0")}.bin`;
      const content = randomBytes(options.fileBytes);
      const t0 = performance.now();
      await writeFile(join(sourceRoot, name), content);
      let arrivedAt: number | undefined;
      while (performance.now() - t0 < options.changeTimeoutMs) {
        const bytes = await readFile(join(receiverRoot, name)).catch(() => undefined);
        if (bytes?.equals(content)) {
          arrivedAt = performance.now();
          break;
        }
        await new Promise((r) => setTimeout(r, 10));
      }
      if (n >= options.warmup) {
        if (arrivedAt === undefined) timedOut++;
        else measured.push(arrivedAt - t0);
      }
      // Keep changes apart, so each is its own watcher window.
      await new Promise((r) => setTimeout(r, 300));
    }
    return {
      version: options.version,
      setup: `two syncthing instances on 127.0.0.1, folder sendonly → receiveonly, fsWatcherDelayS=${SYNCTHING_WATCHER_DELAY_S}, one receiver`,
      changes: options.changes,
      warmupDiscarded: options.warmup,
      timedOut,
      everyReplicaMs: summarize(measured),
    };
  } finally {
    await pair.stop();
  }
}
