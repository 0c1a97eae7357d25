// Syncthing in the delta bench: the same large file and the same two edits between two loopback instances, every byte between them counted.
import { copyFile, mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { waitFor } from "../../test/support/fleet.ts";
import {
  type CountingRelay,
  relayedBytes,
  startCountingRelay,
  waitForQuietWire,
} from "../support/counting-relay.ts";
import { digest, insertAtStart, overwriteInMiddle, waitForSizeAndMtime } from "../support/delta-edits.ts";
import { log, round } from "../support/stats.ts";
import { prepareSyncthingPair, SYNCTHING_FOLDER, type SyncthingPair } from "../support/syncthing-pair.ts";
import { SYNCTHING_WATCHER_DELAY_S } from "./syncthing-peer.ts";

export type SyncthingDeltaOptions = {
  binary: string;
  version: string;
  /** Scratch space: both instances' homes and folders go under here. */
  base: string;
  /** The large file as it was before fleetsync's edits; copied into the source folder. */
  originalFile: string;
  fileBytes: number;
  timeoutMs: number;
};

/**
 * Syncthing's receiver sends its index update back once it has the file, and the pair exchanges nothing else
 * while idle but a ping every 90 s: 3 s without a byte means the edit's exchange is over.
 */
const QUIET_MS = 3000;

export type SyncthingEditFigures = {
  /** Both directions between the two instances, from the edit until the wire went quiet after the receiver had it. */
  bytes: number;
  toReceiverBytes: number;
  toSourceBytes: number;
  /** From the edit until the receiver's copy had the source's size and mtime (then checked byte for byte). */
  seconds: number | null;
  identical: boolean;
};

type Relays = { source?: CountingRelay; receiver?: CountingRelay };

const present = (relays: Relays) => [relays.source, relays.receiver].filter((r) => r !== undefined);

/** Connected both ways, both folders idle, and the source sees the receiver 100 % complete. */
async function waitInSync(pair: SyncthingPair, timeoutMs: number): Promise<void> {
  await pair.waitSettled(timeoutMs);
  await waitFor(
    async () =>
      (
        await pair.rest<{ completion: number }>(
          "source",
          `/rest/db/completion?folder=${SYNCTHING_FOLDER}&device=${pair.receiver.device.id}`,
        )
      ).completion === 100,
    { timeoutMs, intervalMs: 200, what: "Syncthing's receiver at 100 % completion" },
  );
}

/** The power of two (Syncthing's block sizes: 128 KiB to 16 MiB) that cuts `size` bytes into `blocks` blocks. */
export function syncthingBlockBytes(size: number, blocks: number): number | null {
  if (!(size > 0 && blocks > 0)) return null;
  return 2 ** Math.ceil(Math.log2(size / blocks));
}

/** How Syncthing cut the file (its REST API gives the block count) and the folder's weak (rolling) hash threshold. */
async function blockFacts(pair: SyncthingPair) {
  const file = await pair
    .rest<{ global?: { numBlocks?: number; size?: number } }>(
      "source",
      `/rest/db/file?folder=${SYNCTHING_FOLDER}&file=large.bin`,
    )
    .catch(() => undefined);
  const config = await pair
    .rest<{ folders: { id: string; weakHashThresholdPct?: number }[] }>("source", "/rest/config")
    .catch(() => undefined);
  const blocks = file?.global?.numBlocks ?? null;
  return {
    blocks,
    blockBytes: blocks && file?.global?.size ? syncthingBlockBytes(file.global.size, blocks) : null,
    weakHashThresholdPct:
      config?.folders.find((f) => f.id === SYNCTHING_FOLDER)?.weakHashThresholdPct ?? null,
    how: "Syncthing cuts a file into fixed blocks (128 KiB, or larger for big files: at most ~2,000 blocks) and has no content-defined cut points; after an edit the source rehashes the whole file and sends the file's new block list; the receiver builds the new version in a temp file from blocks it already has — found by strong hash, and when at least weakHashThresholdPct % of the blocks changed (an insertion shifts them all) by a rolling weak hash at any offset of the old file — and requests the rest",
  };
}

/**
 * The file synced first (not counted); once the pair is connected, idle, in sync and the wire quiet, the
 * counters are reset and each edit is counted alone: BEP index updates, block requests and responses, TLS
 * records, both directions, through a counting relay in front of each instance (each dials the other only
 * through it).
 */
export async function runSyncthingDelta(options: SyncthingDeltaOptions) {
  const sourceRoot = join(options.base, "syncthing-source");
  const receiverRoot = join(options.base, "syncthing-receiver");
  const sourceFile = join(sourceRoot, "large.bin");
  const receiverFile = join(receiverRoot, "large.bin");
  await mkdir(sourceRoot, { recursive: true });
  await mkdir(receiverRoot, { recursive: true });
  await copyFile(options.originalFile, sourceFile);
  const relays: Relays = {};
  let pair: SyncthingPair | undefined;
  try {
    pair = await prepareSyncthingPair({
      binary: options.binary,
      base: join(options.base, "syncthing-homes"),
      sourceRoot,
      receiverRoot,
      watcherDelayS: SYNCTHING_WATCHER_DELAY_S,
      dialPortFor: async (which, listenPort) => {
        const relay = await startCountingRelay(`http://127.0.0.1:${listenPort}`);
        relays[which] = relay;
        return relay.port;
      },
    });
    const inSync = pair;
    await pair.start("receiver");
    await pair.start("source");
    log("delta: syncthing: initial sync (not counted)");
    await waitForSizeAndMtime(sourceFile, receiverFile, options.timeoutMs);
    await waitInSync(pair, options.timeoutMs);
    await waitForQuietWire({ relays: present(relays), quietMs: QUIET_MS, timeoutMs: options.timeoutMs });
    const initialIdentical = (await digest(receiverFile)) === (await digest(sourceFile));
    const initialSyncBytes = relayedBytes(present(relays));
    const facts = await blockFacts(pair);

    const measure = async (label: string, edit: () => Promise<void>): Promise<SyncthingEditFigures> => {
      for (const relay of present(relays)) relay.reset();
      log(`delta: syncthing: ${label}`);
      const t0 = performance.now();
      await edit();
      await waitForSizeAndMtime(sourceFile, receiverFile, options.timeoutMs);
      const seconds = (performance.now() - t0) / 1000;
      await waitForQuietWire({ relays: present(relays), quietMs: QUIET_MS, timeoutMs: options.timeoutMs });
      // Bytes to an instance: what its own relay took in, plus what the other's relay answered.
      const toReceiverBytes = (relays.receiver?.up ?? 0) + (relays.source?.down ?? 0);
      const toSourceBytes = (relays.source?.up ?? 0) + (relays.receiver?.down ?? 0);
      const identical = (await digest(receiverFile)) === (await digest(sourceFile));
      await waitInSync(inSync, options.timeoutMs);
      return {
        bytes: toReceiverBytes + toSourceBytes,
        toReceiverBytes,
        toSourceBytes,
        seconds: round(seconds, 2),
        identical,
      };
    };

    const overwrite = await measure("4 KiB overwrite in the middle", () =>
      overwriteInMiddle(sourceFile, options.fileBytes),
    );
    const insertion = await measure("4 KiB insertion at the start", () =>
      insertAtStart(sourceFile, join(options.base, "syncthing-large.bin.next")),
    );
    return {
      version: options.version,
      setup: `two syncthing instances on 127.0.0.1, folder sendonly → receiveonly, fsWatcherDelayS=${SYNCTHING_WATCHER_DELAY_S}, each dialing the other through a counting TCP relay`,
      counted:
        "every byte between the two instances, both directions (TLS records carrying BEP index updates, block requests and responses), from the edit until the receiver had the new content (size and mtime, then checked byte for byte) and the wire stayed quiet 3 s; the connection's handshake, the initial sync and idle time before the edit are not counted (counters reset once the pair was connected, idle, 100 % in sync and quiet); a BEP ping (sent after 90 s without traffic) could fall in an edit's window",
      initialIdentical,
      initialSyncBytesNotCounted: initialSyncBytes,
      ...facts,
      overwrite,
      insertion,
    };
  } finally {
    await pair?.stop();
    await Promise.all(present(relays).map((r) => r.close()));
    await rm(sourceRoot, { recursive: true, force: true });
    await rm(receiverRoot, { recursive: true, force: true });
  }
}
