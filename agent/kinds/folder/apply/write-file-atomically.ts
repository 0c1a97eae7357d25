// Builds a file's new content in a temp file beside it (local blocks reused, the rest fetched and verified), then fsyncs.
import { blockSpans } from "../../../../shared/blocks/block-spans.ts";
import { FleetsyncError } from "../../../../shared/errors/fleetsync-error.ts";
import type { SequencedEntry } from "../../../../shared/protocol/entry.ts";
import { MAX_HASHES_PER_FETCH } from "../../../../shared/protocol/messages.ts";
import { sha256 } from "../../../blocks/hash-blocks.ts";
import type { FetchBlocks } from "../../share-kind.ts";
import type { ShareFs } from "../fs/share-fs.ts";

const FETCH_BATCH_BYTES = 16 * 1024 * 1024;
/** Fetches of one file's blocks at once (each at most FETCH_BATCH_BYTES). */
const FETCHES_IN_FLIGHT = 2;

export type BlockSource = { path: string; offset: number; length: number };
export type LocalBlocks = (hash: string) => BlockSource | undefined;

export type WriteStats = { fetchedBlocks: number; fetchedBytes: number; reusedBlocks: number };

export type WriteTempFileOptions = {
  fs: ShareFs;
  /** The file's directory (share-relative): the temp file is made there, so the final rename is atomic. */
  dir: string;
  op: SequencedEntry;
  /** The permission bits to give the file (the op's mode, already masked by the share's policy). */
  mode: number;
  fetchBlocks: FetchBlocks;
  localBlocks: LocalBlocks;
  prefetched: Map<string, Uint8Array>;
  signal?: AbortSignal;
};

/**
 * Writes `op`'s content to a new temp file beside its path and returns it; on any failure the temp file is removed.
 * The temp file is created exclusively and never through a symlink, and its mode and mtime are set on the open
 * handle, so nothing planted in the share can redirect the write, the chmod or the utimes elsewhere.
 */
export async function writeTempFile(
  options: WriteTempFileOptions,
): Promise<{ temp: string; stats: WriteStats }> {
  const { fs, op, fetchBlocks, localBlocks, prefetched, signal } = options;
  const stats: WriteStats = { fetchedBlocks: 0, fetchedBytes: 0, reusedBlocks: 0 };
  // Where each distinct block goes (a block may repeat), and how long it is: from the entry's layout.
  const offsets = new Map<string, number[]>();
  const lengths = new Map<number, number>();
  for (const { hash, offset, length } of blockSpans(op)) {
    const list = offsets.get(hash) ?? [];
    list.push(offset);
    offsets.set(hash, list);
    lengths.set(offset, length);
  }
  const lengthAt = (offset: number) => lengths.get(offset) ?? 0;
  // A fresh, unpredictable name in the file's own directory, created exclusively.
  const { path: temp, file } = await fs.createTemp(options.dir, 0o600);
  try {
    const writeBlock = async (hash: string, bytes: Uint8Array) => {
      for (const offset of offsets.get(hash) ?? []) {
        if (bytes.length !== lengthAt(offset)) {
          throw new FleetsyncError(
            "invalid",
            `block ${hash} of ${op.path} has ${bytes.length} bytes, expected ${lengthAt(offset)}`,
          );
        }
        await file.write(bytes, offset);
      }
    };
    const toFetch: string[] = [];
    for (const hash of offsets.keys()) {
      const source = localBlocks(hash);
      const bytes = source ? await readLocalBlock(fs, source) : undefined;
      if (bytes && sha256(bytes) === hash) {
        await writeBlock(hash, bytes);
        stats.reusedBlocks++;
        continue;
      }
      const fetched = prefetched.get(hash);
      if (fetched) {
        await writeBlock(hash, fetched);
        stats.fetchedBlocks++;
        stats.fetchedBytes += fetched.length;
      } else toFetch.push(hash);
    }
    const maxPerBatch = Math.max(
      1,
      Math.min(MAX_HASHES_PER_FETCH, Math.floor(FETCH_BATCH_BYTES / op.blockSize)),
    );
    const fetchBatch = async (batch: Set<string>) => {
      // Each block is verified and written before the next is read: one receive buffer serves them all.
      for await (const frame of fetchBlocks([...batch], signal, { transient: true })) {
        if (!batch.has(frame.hash))
          throw new FleetsyncError("invalid", `hub sent block ${frame.hash}, which was not asked for`);
        if (sha256(frame.bytes) !== frame.hash) {
          throw new FleetsyncError(
            "invalid",
            `block ${frame.hash} of ${op.path} does not match its hash; refused it`,
            {
              retryable: true,
            },
          );
        }
        await writeBlock(frame.hash, frame.bytes);
        batch.delete(frame.hash);
        stats.fetchedBlocks++;
        stats.fetchedBytes += frame.bytes.length;
      }
      if (batch.size > 0) {
        throw new FleetsyncError(
          "unavailable",
          `${batch.size} blocks of ${op.path} are not on the hub (yet); will retry`,
          {
            retryable: true,
          },
        );
      }
    };
    // Two batches in flight: the hub reads the next one from its store while this one is written here.
    const batches: Set<string>[] = [];
    for (let i = 0; i < toFetch.length; i += maxPerBatch)
      batches.push(new Set(toFetch.slice(i, i + maxPerBatch)));
    const fetchers = Array.from({ length: Math.min(FETCHES_IN_FLIGHT, batches.length) }, async () => {
      try {
        for (let batch = batches.shift(); batch; batch = batches.shift()) await fetchBatch(batch);
      } catch (error) {
        batches.length = 0; // the other fetch stops after its batch: the file fails either way
        throw error;
      }
    });
    const outcomes = await Promise.allSettled(fetchers);
    const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === "rejected");
    if (failed) throw failed.reason;
    // On the open file itself: nothing planted meanwhile can redirect the chmod or the utimes.
    await file.setMode(options.mode);
    await file.setMtime(op.mtimeMs);
    await file.sync();
    await file.close();
    return { temp, stats };
  } catch (error) {
    await file.close().catch(() => {});
    await fs.remove(temp).catch(() => {});
    throw error;
  }
}

async function readLocalBlock(fs: ShareFs, source: BlockSource): Promise<Uint8Array | undefined> {
  const file = await fs.openRead(source.path).catch(() => undefined);
  if (!file) return undefined;
  try {
    const buffer = new Uint8Array(source.length);
    const read = await file.read(buffer, 0, source.length, source.offset);
    return read === source.length ? buffer : undefined;
  } catch {
    return undefined;
  } finally {
    await file.close();
  }
}
