// SHA-256 of bytes, and a content's block list: fixed blocks when small, content-defined chunks above that.
import { hash } from "node:crypto";
import { type CdcParams, chunkingFor } from "../../shared/blocks/chunking-for.ts";
import { contentHashInput } from "../../shared/blocks/content-hash.ts";
import { findCutPoint } from "../../shared/blocks/find-cut-point.ts";

export type BlockHashes = {
  size: number;
  blockSize: number;
  blocks: string[];
  /** Present for content-defined chunks (see Entry.blockLengths). */
  blockLengths?: number[];
  hash: string;
};

/** Positional reads: fills `buffer[offset, offset+length)` from `position`, answering how many bytes it read. */
export type ReadAt = (
  buffer: Uint8Array,
  offset: number,
  length: number,
  position: number,
) => Promise<number>;

export type HashContentOptions = {
  read: ReadAt;
  /** The size the content is expected to have: it picks the chunking. The real size is what `read` gives. */
  expectedBytes: number;
  /**
   * Called with each block as it is hashed (e.g. to upload it in the same pass). `bytes` is a view of the read
   * buffer, valid only until the returned promise settles: keep a copy, not the view. Awaited before reading on.
   */
  onBlock?: (hash: string, bytes: Uint8Array) => void | Promise<void>;
};

/** One-shot (node:crypto's hash()): no Hash object per block for the GC to collect, and its OpenSSL context freed at once. */
export function sha256(bytes: Uint8Array): string {
  return hash("sha256", bytes, "hex");
}

/**
 * The content id of a block list (shared/blocks/content-hash.ts), with node:crypto: synchronous, where Web Crypto's
 * digest is a round trip through the thread pool per file (~5 % of a source's CPU on a tree of small files).
 */
export function contentHashSync(
  size: number,
  blockSize: number,
  blocks: string[],
  blockLengths?: number[],
): string {
  return sha256(contentHashInput(size, blockSize, blocks, blockLengths));
}

/**
 * Read buffers kept between files: a scan of many small files allocated one block-sized buffer per file, garbage
 * as soon as the file was hashed (a fifth of a source's CPU went to collecting them). One spare per size, dropped
 * once no file was hashed for a while, so an idle agent holds none.
 */
const spareBuffers = new Map<number, Buffer>();
const DROP_SPARES_AFTER_MS = 2000;
let dropSpares: ReturnType<typeof setTimeout> | undefined;

function takeBuffer(bytes: number): Buffer {
  const spare = spareBuffers.get(bytes);
  if (!spare) return Buffer.allocUnsafe(bytes);
  spareBuffers.delete(bytes);
  return spare;
}

function giveBack(buffer: Buffer): void {
  spareBuffers.set(buffer.length, buffer);
  if (dropSpares) dropSpares.refresh();
  else {
    dropSpares = setTimeout(() => {
      spareBuffers.clear();
      dropSpares = undefined;
    }, DROP_SPARES_AFTER_MS);
    dropSpares.unref();
  }
}

/** Hashes content block by block, reading it once, holding at most a few blocks in memory. */
export async function hashContent(options: HashContentOptions): Promise<BlockHashes> {
  const chunking = chunkingFor(options.expectedBytes);
  // A whole block, not min(blockSize, size): the content may have grown since its size was taken. For chunks, room
  // for two largest chunks, so a refill moves at most one chunk's worth of bytes.
  const buffer = takeBuffer(
    chunking.kind === "cdc" ? Math.max(2 * chunking.maxBytes, 4 * 1024 * 1024) : chunking.blockBytes,
  );
  try {
    return chunking.kind === "cdc"
      ? await hashChunks(options.read, buffer, chunking, options.onBlock)
      : await hashFixedBlocks(options.read, buffer, options.onBlock);
  } finally {
    // onBlock's views of it are done with (each was awaited): the next file may read into it.
    giveBack(buffer);
  }
}

async function hashFixedBlocks(
  read: ReadAt,
  buffer: Buffer,
  onBlock: HashContentOptions["onBlock"],
): Promise<BlockHashes> {
  const blockSize = buffer.length;
  const blocks: string[] = [];
  let total = 0;
  while (true) {
    const filled = await readFully(read, buffer, 0, total);
    if (filled === 0) break;
    const block = buffer.subarray(0, filled);
    const hash = sha256(block);
    blocks.push(hash);
    await onBlock?.(hash, block);
    total += filled;
    if (filled < buffer.length) break;
  }
  return { size: total, blockSize, blocks, hash: contentHashSync(total, blockSize, blocks) };
}

async function hashChunks(
  read: ReadAt,
  buffer: Buffer,
  params: CdcParams,
  onBlock: HashContentOptions["onBlock"],
): Promise<BlockHashes> {
  const blocks: string[] = [];
  const blockLengths: number[] = [];
  let start = 0;
  let end = 0;
  let position = 0;
  let isEnd = false;
  while (true) {
    if (!isEnd && end - start < params.maxBytes) {
      buffer.copyWithin(0, start, end);
      end -= start;
      start = 0;
      const filled = await readFully(read, buffer, end, position);
      position += filled;
      end += filled;
      isEnd = end < buffer.length;
    }
    if (start === end) break;
    const length = findCutPoint(buffer, start, end, params);
    const block = buffer.subarray(start, start + length);
    const hash = sha256(block);
    blocks.push(hash);
    blockLengths.push(length);
    await onBlock?.(hash, block);
    start += length;
  }
  const blockSize = params.maxBytes;
  return {
    size: position,
    blockSize,
    blocks,
    blockLengths,
    hash: contentHashSync(position, blockSize, blocks, blockLengths),
  };
}

/** Reads into `buffer` from `offset` to its end, stopping early only at the end of the content. */
async function readFully(
  read: ReadAt,
  buffer: Uint8Array,
  offset: number,
  position: number,
): Promise<number> {
  let filled = 0;
  while (offset + filled < buffer.length) {
    const n = await read(buffer, offset + filled, buffer.length - offset - filled, position + filled);
    if (n === 0) break;
    filled += n;
  }
  return filled;
}

/** The same blocks and content hash a file with these bytes would get. */
export function hashBytes(bytes: Uint8Array): Promise<BlockHashes> {
  return hashContent({
    expectedBytes: bytes.byteLength,
    read: async (buffer, offset, length, position) => {
      const part = bytes.subarray(position, position + length);
      buffer.set(part, offset);
      return part.length;
    },
  });
}
