// Hub storage per policy: what the Node hub keeps for a synced share under `full` and under `relay`, beside each target.
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { adminCall, waitFor } from "../../test/support/fleet.ts";
import { startBenchFleet } from "../support/bench-fleet.ts";
import { log, round } from "../support/stats.ts";
import { waitForFiles, writeManySmallTree } from "../support/tree.ts";

const MIB = 1024 * 1024;
/** `full` keeps one copy of the share's unique data, plus at most this much for its index. */
export const FULL_STORAGE_TARGET_RATIO = 1.05;

export type HubStorageOptions = {
  tmpRoot: string;
  totalBytes: number;
  files: number;
  replicas: number;
  debounceMs: number;
  timeoutMs: number;
};

/** Bytes of every file under `dir` (recursively), leaving out directories named in `skip`. */
async function bytesUnder(dir: string, skip: string[] = []): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!skip.includes(entry.name)) total += await bytesUnder(path, skip);
    } else if (entry.isFile()) total += (await stat(path).catch(() => undefined))?.size ?? 0;
  }
  return total;
}

type Members = { members: { role: string; lag: number }[] };

async function measurePolicy(options: HubStorageOptions, storage: "full" | "relay") {
  const base = await mkdtemp(join(options.tmpRoot, `fleetsync-bench-storage-${storage}-`));
  const sourceRoot = join(base, "source");
  const expected = await writeManySmallTree(sourceRoot, options.totalBytes, options.files);
  const uniqueBytes = expected.reduce((sum, f) => sum + f.size, 0);
  const fleet = await startBenchFleet({
    base,
    sourceRoot,
    replicas: options.replicas,
    debounceMs: options.debounceMs,
    storage,
  });
  try {
    fleet.startSource();
    for (const replica of fleet.replicas) {
      const waited = await waitForFiles(replica.root, expected, { timeoutMs: options.timeoutMs });
      if (!waited.ok) throw new Error(`${storage}: a replica got ${waited.done} of ${expected.length} files`);
    }
    // Every receiving member acknowledged the head (lag 0): what the hub keeps from here on is what counts.
    await waitFor(
      async () => {
        const share = (await adminCall(fleet.hub, "GET", `/v1/admin/shares/${fleet.share}`)) as Members;
        return share.members.every((m) => m.role === "source" || m.lag === 0);
      },
      { timeoutMs: 60_000, intervalMs: 200, what: "every replica to acknowledge the head" },
    );
    // Whichever store the hub uses: pack files (DATA/packs) or one file per block (DATA/blocks).
    const blockStoreBytes = async () =>
      (await bytesUnder(join(fleet.hub.dataDir, "blocks"), ["tmp"])) +
      (await bytesUnder(join(fleet.hub.dataDir, "packs")));
    if (storage === "relay") {
      // The last ack drops the blocks; give the hub a moment to finish deleting them (and reclaiming their space).
      await waitFor(async () => (await blockStoreBytes()) === 0, {
        timeoutMs: 30_000,
        intervalMs: 200,
        what: "the relay hub to drop the acknowledged blocks",
      }).catch(() => undefined);
    }
    const blockBytes = await blockStoreBytes();
    const dataDirBytes = await bytesUnder(fleet.hub.dataDir);
    return { uniqueBytes, blockBytes, dataDirBytes };
  } finally {
    await fleet.stop();
    await rm(base, { recursive: true, force: true });
  }
}

/**
 * Syncs the same kind of tree (random, so every byte is unique) once per policy, waits until every replica
 * acknowledged the head, and reads the hub's block store and its whole data dir (database included).
 */
export async function runHubStorage(options: HubStorageOptions) {
  log(`hub storage: ${options.files} files, ${round(options.totalBytes / MIB, 1)} MiB, full then relay`);
  const full = await measurePolicy(options, "full");
  const relay = await measurePolicy(options, "relay");
  const fullRatio = full.dataDirBytes / full.uniqueBytes;
  const result = {
    uniqueDataMiB: round(full.uniqueBytes / MIB, 1),
    files: options.files,
    replicas: options.replicas,
    full: {
      blockStoreMiB: round(full.blockBytes / MIB, 2),
      dataDirMiB: round(full.dataDirBytes / MIB, 2),
      /** hub.db with its WAL, keys and token: a fixed part that weighs more on a small tree. */
      restMiB: round((full.dataDirBytes - full.blockBytes) / MIB, 2),
      ratioToUniqueData: round(fullRatio, 3),
      target: `data dir ≤ ${FULL_STORAGE_TARGET_RATIO}× the share's unique data`,
      met: fullRatio <= FULL_STORAGE_TARGET_RATIO,
      ...(fullRatio > FULL_STORAGE_TARGET_RATIO
        ? { missedBy: `${round((fullRatio / FULL_STORAGE_TARGET_RATIO - 1) * 100, 1)} % over` }
        : {}),
    },
    relay: {
      blockStoreMiB: round(relay.blockBytes / MIB, 2),
      dataDirMiB: round(relay.dataDirBytes / MIB, 2),
      restMiB: round((relay.dataDirBytes - relay.blockBytes) / MIB, 2),
      ratioToUniqueData: round(relay.dataDirBytes / relay.uniqueBytes, 3),
      target: "block store ~0 once every member acknowledged (the data dir keeps only the database)",
      met: relay.blockBytes === 0,
      ...(relay.blockBytes > 0 ? { missedBy: `${round(relay.blockBytes / MIB, 2)} MiB of blocks kept` } : {}),
    },
  };
  log(
    `hub storage: full ${result.full.dataDirMiB} MiB (${result.full.ratioToUniqueData}× unique data; target ≤ ${FULL_STORAGE_TARGET_RATIO}×), relay blocks ${result.relay.blockStoreMiB} MiB (target ~0), data dir ${result.relay.dataDirMiB} MiB`,
  );
  return result;
}
