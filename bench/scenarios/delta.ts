// Bytes on the wire for a small edit in a large file (4 KiB overwrite inside, 4 KiB insertion at the start), beside rsync's delta.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { copyFile, mkdir, mkdtemp, open, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import {
  createShare,
  enrollAgent,
  type RunningProcess,
  setAgentHub,
  startAgent,
  startHubProcess,
  type TestHub,
  waitFor,
} from "../../test/support/fleet.ts";
import { startTcpRelay } from "../../test/support/tcp-relay.ts";
import { onInterrupt } from "../support/cleanup.ts";
import { syncDisks, type ToolInfo, timeCommand } from "../support/peers.ts";
import { log, round } from "../support/stats.ts";
import { writeOneLargeFile } from "../support/tree.ts";

export type DeltaOptions = {
  tmpRoot: string;
  fileBytes: number;
  debounceMs: number;
  timeoutMs: number;
  rsync: ToolInfo;
};

const EDIT_BYTES = 4096;
/** The bytes must stay still this long before an edit's figures are read (long-polls idle, uploads done). */
const QUIET_MS = 1500;

/** A TCP relay in front of the hub that counts every byte each way (headers, bodies, long-polls: the wire). */
type CountingRelay = { url: string; up: number; down: number; reset: () => void; close: () => Promise<void> };

async function startCountingRelay(hubUrl: string): Promise<CountingRelay> {
  const relay = { up: 0, down: 0 };
  const tcp = await startTcpRelay({
    pickUpstream: () => hubUrl,
    onSockets: (client, upstream) => {
      client.on("data", (chunk: Buffer) => {
        relay.up += chunk.length;
      });
      upstream.on("data", (chunk: Buffer) => {
        relay.down += chunk.length;
      });
    },
  });
  return {
    url: tcp.url,
    get up() {
      return relay.up;
    },
    get down() {
      return relay.down;
    },
    reset() {
      relay.up = 0;
      relay.down = 0;
    },
    close: tcp.close,
  };
}

async function digest(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path, { highWaterMark: 4 * 1024 * 1024 })) hash.update(chunk);
  return hash.digest("hex");
}

/** Waits until the replica's copy has the source's size and mtime, then until the relays' counters stand still. */
async function waitForEdit(options: {
  sourceFile: string;
  replicaFile: string;
  relays: CountingRelay[];
  timeoutMs: number;
}): Promise<void> {
  const want = await stat(options.sourceFile);
  await waitFor(
    async () => {
      const got = await stat(options.replicaFile).catch(() => undefined);
      return got && got.size === want.size && Math.trunc(got.mtimeMs) === Math.trunc(want.mtimeMs);
    },
    { timeoutMs: options.timeoutMs, intervalMs: 100, what: "the edit on the replica" },
  );
  let last = -1;
  let stillSince = performance.now();
  await waitFor(
    () => {
      const now = options.relays.reduce((sum, r) => sum + r.up + r.down, 0);
      if (now !== last) {
        last = now;
        stillSince = performance.now();
      }
      return performance.now() - stillSince >= QUIET_MS;
    },
    { timeoutMs: options.timeoutMs, intervalMs: 100, what: "the wire to go quiet" },
  );
}

/** rsync's delta of the edited source onto its copy of the previous version: bytes sent + received (--stats). */
async function rsyncDelta(bin: string, sourceDir: string, copyDir: string) {
  const run = await timeCommand(bin, ["-a", "--no-whole-file", "--stats", `${sourceDir}/`, `${copyDir}/`]);
  const sent = Number(/Total bytes sent: ([\d,]+)/.exec(run.output)?.[1]?.replaceAll(",", "") ?? Number.NaN);
  const received = Number(
    /Total bytes received: ([\d,]+)/.exec(run.output)?.[1]?.replaceAll(",", "") ?? Number.NaN,
  );
  if (run.code !== 0 || Number.isNaN(sent) || Number.isNaN(received))
    return { error: `rsync exit ${run.code}: ${run.output.slice(-300)}` };
  return {
    command: "rsync -a --no-whole-file --stats",
    sentBytes: sent,
    receivedBytes: received,
    bytes: sent + received,
  };
}

export async function runDelta(options: DeltaOptions) {
  const base = await mkdtemp(join(options.tmpRoot, "fleetsync-bench-delta-"));
  const forgetBase = onInterrupt(() => rm(base, { recursive: true, force: true }));
  const sourceDir = join(base, "source");
  const replicaDir = join(base, "replica");
  const rsyncCopy = join(base, "rsync-copy");
  const sourceFile = join(sourceDir, "large.bin");
  const replicaFile = join(replicaDir, "large.bin");
  const processes: RunningProcess[] = [];
  const relays: CountingRelay[] = [];
  const stateDirs: string[] = [];
  let hub: TestHub | undefined;
  try {
    log(`delta: writing one ${round(options.fileBytes / 1048576, 0)} MiB file`);
    await writeOneLargeFile(sourceDir, options.fileBytes);
    await mkdir(replicaDir);
    hub = await startHubProcess();
    await createShare(hub, "bench");
    const settings = { debounceMs: options.debounceMs, level: "info" as const };
    const src = await enrollAgent(hub, "bench", "source", sourceDir, settings);
    const rep = await enrollAgent(hub, "bench", "replica", replicaDir, settings);
    stateDirs.push(src.stateDir, rep.stateDir);
    const sourceRelay = await startCountingRelay(hub.url);
    const replicaRelay = await startCountingRelay(hub.url);
    relays.push(sourceRelay, replicaRelay);
    await setAgentHub(src.stateDir, sourceRelay.url);
    await setAgentHub(rep.stateDir, replicaRelay.url);
    processes.push(startAgent(rep.stateDir), startAgent(src.stateDir));

    log("delta: initial sync");
    await waitForEdit({ sourceFile, replicaFile, relays, timeoutMs: options.timeoutMs });
    const initialIdentical = (await digest(replicaFile)) === (await digest(sourceFile));
    if (options.rsync.available) {
      await mkdir(rsyncCopy);
      await copyFile(sourceFile, join(rsyncCopy, "large.bin"));
      await timeCommand(options.rsync.path, ["-a", `${sourceDir}/`, `${rsyncCopy}/`]);
    }
    await syncDisks();

    const measure = async (label: string, edit: () => Promise<void>) => {
      sourceRelay.reset();
      replicaRelay.reset();
      log(`delta: ${label}`);
      await edit();
      await waitForEdit({ sourceFile, replicaFile, relays, timeoutMs: options.timeoutMs });
      const source = { upBytes: sourceRelay.up, downBytes: sourceRelay.down };
      const replica = { upBytes: replicaRelay.up, downBytes: replicaRelay.down };
      const identical = (await digest(replicaFile)) === (await digest(sourceFile));
      const rsync = options.rsync.available
        ? await rsyncDelta(options.rsync.path, sourceDir, rsyncCopy)
        : { skipped: "rsync unavailable" };
      const sourceBytes = source.upBytes + source.downBytes;
      const rsyncBytes = "bytes" in rsync ? rsync.bytes : null;
      const ratio = rsyncBytes ? round(sourceBytes / rsyncBytes, 2) : null;
      return {
        fleetsync: {
          bytes: sourceBytes,
          source,
          replica,
          sourcePlusReplicaBytes: sourceBytes + replica.upBytes + replica.downBytes,
          identical,
        },
        rsync,
        ratioToRsync: ratio,
        target: "fleetsync.bytes ≤ 2× rsync's bytes (delta algorithm forced)",
        targetMet: ratio === null ? null : ratio <= 2,
        ...(ratio !== null && ratio > 2 ? { missedBy: `${round(ratio / 2, 2)}× over the target` } : {}),
      };
    };

    const overwrite = await measure("4 KiB overwrite in the middle", async () => {
      const handle = await open(sourceFile, "r+");
      try {
        const bytes = Buffer.alloc(EDIT_BYTES, 0x5a);
        await handle.write(bytes, 0, EDIT_BYTES, Math.floor(options.fileBytes / 2));
      } finally {
        await handle.close();
      }
    });
    const insertion = await measure("4 KiB insertion at the start", async () => {
      // Built outside the share and renamed in, so the agent never sees (and syncs) a half-written copy.
      const next = join(base, "large.bin.next");
      const out = await open(next, "w");
      try {
        await out.write(Buffer.alloc(EDIT_BYTES, 0xa5), 0, EDIT_BYTES, 0);
        let position = EDIT_BYTES;
        for await (const chunk of createReadStream(sourceFile, { highWaterMark: 4 * 1024 * 1024 })) {
          await out.write(chunk as Buffer, 0, (chunk as Buffer).length, position);
          position += (chunk as Buffer).length;
        }
      } finally {
        await out.close();
      }
      await rename(next, sourceFile);
    });
    return {
      description:
        "One large file synced source → hub → replica; then a 4 KiB overwrite in the middle, then 4 KiB inserted at the start. fleetsync's bytes: everything on the source's TCP connections to the hub, both ways (HTTP headers and bodies, reports, uploads, long-polls), counted by a relay in front of the hub; the replica's connections are shown beside. rsync: `rsync -a --no-whole-file --stats` of the same edit onto a copy of the previous version, total bytes sent + received.",
      fileBytes: options.fileBytes,
      editBytes: EDIT_BYTES,
      initialIdentical,
      overwrite,
      insertion,
    };
  } finally {
    await Promise.all(processes.map((p) => p.stop()));
    await Promise.all(relays.map((r) => r.close()));
    if (hub) {
      await hub.stop();
      await rm(hub.dataDir, { recursive: true, force: true });
    }
    for (const dir of [base, ...stateDirs]) await rm(dir, { recursive: true, force: true });
    forgetBase();
  }
}
