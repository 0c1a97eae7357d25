// Fetches the blocks of many small files in a few batched requests, so 10,000 small files are not 10,000 fetches.
import { FleetsyncError } from "../../../../shared/errors/fleetsync-error.ts";
import type { SequencedEntry } from "../../../../shared/protocol/entry.ts";
import { MAX_HASHES_PER_FETCH } from "../../../../shared/protocol/messages.ts";
import { sha256 } from "../../../blocks/hash-blocks.ts";
import type { IndexEntry } from "../../../state/share-state.ts";
import type { FetchBlocks } from "../../share-kind.ts";
import type { ShareFs } from "../fs/share-fs.ts";
import type { LocalBlocks } from "./write-file-atomically.ts";

const SMALL_FILE_BYTES = 1024 * 1024;
const GROUP_BYTES = 16 * 1024 * 1024;

export class BlockPrefetcher {
  private cache = new Map<string, Uint8Array>();
  private groupEnd = -1;

  constructor(
    private readonly fs: ShareFs,
    private readonly ops: SequencedEntry[],
    private readonly index: Record<string, IndexEntry>,
    private readonly localBlocks: LocalBlocks,
    private readonly fetchBlocks: FetchBlocks,
    private readonly signal?: AbortSignal,
  ) {}

  /** Blocks fetched ahead for the op at `position` (and the small files after it), by hash. */
  async blocksFor(position: number): Promise<Map<string, Uint8Array>> {
    const op = this.ops[position];
    if (op?.type !== "file" || op.size > SMALL_FILE_BYTES) return new Map();
    if (position > this.groupEnd) await this.fetchGroup(position);
    return this.cache;
  }

  private async fetchGroup(start: number): Promise<void> {
    this.cache = new Map();
    const wanted = new Set<string>();
    let bytes = 0;
    let position = start;
    for (; position < this.ops.length && bytes < GROUP_BYTES; position++) {
      const op = this.ops[position]!;
      if (op.type !== "file" || op.size > SMALL_FILE_BYTES) break;
      if (await this.isAlreadyThere(op)) continue;
      for (const hash of op.blocks) {
        if (wanted.has(hash) || this.localBlocks(hash)) continue;
        wanted.add(hash);
        bytes += Math.min(op.blockSize, op.size);
      }
    }
    this.groupEnd = position - 1;
    const hashes = [...wanted];
    for (let i = 0; i < hashes.length; i += MAX_HASHES_PER_FETCH) {
      const batch = new Set(hashes.slice(i, i + MAX_HASHES_PER_FETCH));
      for await (const frame of this.fetchBlocks([...batch], this.signal)) {
        // A block that does not match its hash is dropped here; the file that needs it fails verifiably later.
        if (batch.has(frame.hash) && sha256(frame.bytes) === frame.hash)
          this.cache.set(frame.hash, frame.bytes);
      }
    }
  }

  private async isAlreadyThere(op: SequencedEntry): Promise<boolean> {
    const known = this.index[op.path];
    if (known?.type !== "file" || known.blocks.join() !== op.blocks.join()) return false;
    const st = await this.fs.stat(op.path).catch(() => undefined);
    return (
      st?.type === "file" && st.size === known.size && st.mtimeMs === known.mtimeMs && st.ino === known.ino
    );
  }
}

export function missingBlockError(path: string, count: number): FleetsyncError {
  return new FleetsyncError(
    "unavailable",
    `${count} blocks of ${path} are not on the hub (yet); will retry`,
    { retryable: true },
  );
}
