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
// Two groups are in memory at once (one written, one fetched ahead). Their blocks are small buffers in malloc's main
// heap: 4 MiB groups keep an idle replica's RSS after a sync near its start (16 MiB ones left ~45 MiB fragmented).
const GROUP_BYTES = 4 * 1024 * 1024;

export class BlockPrefetcher {
  private cache = new Map<string, Uint8Array>();
  private groupEnd = -1;
  /** The group after the current one, fetched while the current one is written (at most two groups in memory). */
  private ahead: { start: number; fetching: Promise<Group> } | undefined;

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
    if (position > this.groupEnd) {
      const ahead = this.ahead?.start === position ? this.ahead.fetching : undefined;
      this.ahead = undefined;
      this.cache = new Map(); // the last group's blocks are written (or their files fetch their own)
      const group = await (ahead ?? this.fetchGroup(position));
      this.cache = group.blocks;
      this.groupEnd = group.end;
      const next = group.end + 1;
      if (isSmallFile(this.ops[next])) {
        const fetching = this.fetchGroup(next);
        fetching.catch(() => {}); // awaited when its group comes; a failure then fetches it again
        this.ahead = { start: next, fetching };
      }
    }
    return this.cache;
  }

  /** Waits for a fetch ahead still running (a run cut short never reached its group), so nothing outlives the run. */
  async settle(): Promise<void> {
    await this.ahead?.fetching.catch(() => {});
    this.ahead = undefined;
  }

  private async fetchGroup(start: number): Promise<Group> {
    const blocks = new Map<string, Uint8Array>();
    const wanted = new Set<string>();
    let bytes = 0;
    let position = start;
    for (; position < this.ops.length && bytes < GROUP_BYTES; position++) {
      const op = this.ops[position]!;
      if (!isSmallFile(op)) break;
      if (await this.isAlreadyThere(op)) continue;
      for (const hash of op.blocks) {
        if (wanted.has(hash) || this.localBlocks(hash)) continue;
        wanted.add(hash);
        bytes += Math.min(op.blockSize, op.size);
      }
    }
    const hashes = [...wanted];
    for (let i = 0; i < hashes.length; i += MAX_HASHES_PER_FETCH) {
      const batch = new Set(hashes.slice(i, i + MAX_HASHES_PER_FETCH));
      for await (const frame of this.fetchBlocks([...batch], this.signal)) {
        // A block that does not match its hash is dropped here; the file that needs it fails verifiably later.
        if (batch.has(frame.hash) && sha256(frame.bytes) === frame.hash) blocks.set(frame.hash, frame.bytes);
      }
    }
    return { blocks, end: position - 1 };
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

type Group = { blocks: Map<string, Uint8Array>; end: number };

function isSmallFile(op: SequencedEntry | undefined): boolean {
  return op?.type === "file" && op.size <= SMALL_FILE_BYTES;
}

export function missingBlockError(path: string, count: number): FleetsyncError {
  return new FleetsyncError(
    "unavailable",
    `${count} blocks of ${path} are not on the hub (yet); will retry`,
    { retryable: true },
  );
}
