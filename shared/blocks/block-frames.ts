// The binary framing of block batches on the wire: [32-byte SHA-256][uint32 BE length][bytes], repeated.
import { MAX_BLOCK_BYTES } from "./block-size.ts";
import { fromHex, toHex } from "./hex.ts";

export const BLOCK_FRAME_HEADER_BYTES = 36;
export const BLOCKS_CONTENT_TYPE = "application/vnd.fleetsync.blocks";

export type BlockFrame = { hash: string; bytes: Uint8Array };

export function encodeBlockFrameHeader(hash: string, length: number): Uint8Array {
  const header = new Uint8Array(BLOCK_FRAME_HEADER_BYTES);
  header.set(fromHex(hash), 0);
  new DataView(header.buffer).setUint32(32, length, false);
  return header;
}

export function encodeBlockFrames(frames: BlockFrame[]): Uint8Array {
  const total = frames.reduce((sum, f) => sum + BLOCK_FRAME_HEADER_BYTES + f.bytes.length, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const frame of frames) {
    out.set(encodeBlockFrameHeader(frame.hash, frame.bytes.length), offset);
    out.set(frame.bytes, offset + BLOCK_FRAME_HEADER_BYTES);
    offset += BLOCK_FRAME_HEADER_BYTES + frame.bytes.length;
  }
  return out;
}

export class BlockFrameError extends Error {
  override name = "BlockFrameError";
}

/** A body to decode: a WHATWG stream, or any async iterable of bytes (a Node stream, read without a web adapter). */
export type BlockFrameSource = ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;

function chunkReader(source: BlockFrameSource): {
  read: () => Promise<IteratorResult<Uint8Array>>;
  release: () => Promise<void>;
} {
  if ("getReader" in source) {
    const reader = source.getReader();
    return {
      read: () => reader.read() as Promise<IteratorResult<Uint8Array>>,
      release: async () => reader.releaseLock(),
    };
  }
  if (isNodeReadable(source)) return nodeStreamReader(source);
  const iterator = source[Symbol.asyncIterator]();
  return {
    read: () => iterator.next(),
    // Left early (an error, a consumer that stopped): the stream is destroyed, not left half read.
    release: async () => {
      await iterator.return?.();
    },
  };
}

/** What of a Node stream (node:http's answer) the reader uses; typed here so shared/ needs no Node types. */
type NodeReadableLike = AsyncIterable<Uint8Array> & {
  on(event: string, listener: (...args: never[]) => void): unknown;
  pause(): unknown;
  resume(): unknown;
  destroy(): unknown;
  readableEnded: boolean;
};

function isNodeReadable(source: AsyncIterable<Uint8Array>): source is NodeReadableLike {
  const s = source as Partial<NodeReadableLike>;
  return typeof s.on === "function" && typeof s.pause === "function" && typeof s.resume === "function";
}

/** Chunks queued before the stream is paused: a few socket reads (64 KiB each), read ahead of the frames. */
const QUEUED_CHUNKS = 8;

/**
 * A Node stream's chunks as they come ("data" events, paused while a few wait): its async iterator reads the whole
 * buffer at once, which concatenates the waiting chunks, a copy of every byte before the frames are cut out.
 */
function nodeStreamReader(stream: NodeReadableLike): {
  read: () => Promise<IteratorResult<Uint8Array>>;
  release: () => Promise<void>;
} {
  const queue: Uint8Array[] = [];
  let ended = false;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const notify = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  stream.on("data", (chunk: Uint8Array) => {
    queue.push(chunk);
    if (queue.length >= QUEUED_CHUNKS) stream.pause();
    notify();
  });
  stream.on("end", () => {
    ended = true;
    notify();
  });
  stream.on("error", (error: Error) => {
    failure ??= error;
    notify();
  });
  stream.on("close", () => {
    // Closed without its end (the connection dropped): the body is cut short, not complete.
    if (!stream.readableEnded) failure ??= new Error("the stream closed before its end");
    notify();
  });
  return {
    async read() {
      while (true) {
        const chunk = queue.shift();
        if (chunk) {
          if (queue.length < QUEUED_CHUNKS / 2) stream.resume();
          return { done: false, value: chunk };
        }
        if (failure) throw failure;
        if (ended) return { done: true, value: undefined };
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      }
    },
    // Left early (an error, a consumer that stopped): the stream is destroyed, not left half read.
    release: async () => {
      if (!ended) stream.destroy();
    },
  };
}

export type DecodeOptions = {
  /**
   * A frame's bytes are valid only until the next frame is asked for: a frame cut across chunks is copied into one
   * buffer reused for the whole body, so receiving a large file allocates no buffer per block (each was garbage the
   * moment it was written). For a consumer that writes each block before it asks for the next.
   */
  transient?: boolean;
};

/**
 * Reads frames one by one from a byte stream, holding at most one block in memory and copying each byte once. A
 * Node stream is read as it is: going through a web ReadableStream adapter cost a receiving agent ~9 % of its CPU.
 */
export async function* decodeBlockFrames(
  source: BlockFrameSource,
  options: DecodeOptions = {},
): AsyncGenerator<BlockFrame> {
  let scratch: Uint8Array | undefined;
  const reader = chunkReader(source);
  const chunks: Uint8Array[] = [];
  let buffered = 0;
  let done = false;
  const fill = async (need: number): Promise<boolean> => {
    while (buffered < need && !done) {
      const chunk = await reader.read();
      if (chunk.done) done = true;
      else if (chunk.value.length > 0) {
        chunks.push(chunk.value);
        buffered += chunk.value.length;
      }
    }
    return buffered >= need;
  };
  /** Removes and returns the next `length` bytes (one copy; none when a chunk holds them all). */
  const take = (length: number): Uint8Array => {
    const first = chunks[0]!;
    if (first.length >= length) {
      // A plain Uint8Array view (subarray of a Node Buffer would be a Buffer), without copying.
      const out = new Uint8Array(first.buffer, first.byteOffset, length);
      if (first.length === length) chunks.shift();
      else chunks[0] = first.subarray(length);
      buffered -= length;
      return out;
    }
    let out: Uint8Array;
    if (options.transient) {
      if (!scratch || scratch.length < length)
        scratch = new Uint8Array(Math.max(length, scratch?.length ?? 0));
      out = scratch.subarray(0, length);
    } else out = new Uint8Array(length);
    let offset = 0;
    while (offset < length) {
      const head = chunks[0]!;
      const n = Math.min(head.length, length - offset);
      out.set(head.subarray(0, n), offset);
      offset += n;
      if (n === head.length) chunks.shift();
      else chunks[0] = head.subarray(n);
    }
    buffered -= length;
    return out;
  };
  try {
    while (true) {
      if (!(await fill(BLOCK_FRAME_HEADER_BYTES))) {
        if (buffered > 0) throw new BlockFrameError("block batch ends inside a frame header");
        return;
      }
      const header = take(BLOCK_FRAME_HEADER_BYTES);
      const hash = toHex(header.subarray(0, 32));
      const length = new DataView(header.buffer, header.byteOffset, header.length).getUint32(32, false);
      if (length > MAX_BLOCK_BYTES) {
        throw new BlockFrameError(`block ${hash} claims ${length} bytes (max ${MAX_BLOCK_BYTES})`);
      }
      if (!(await fill(length))) throw new BlockFrameError(`block ${hash} is truncated`);
      yield { hash, bytes: length === 0 ? new Uint8Array(0) : take(length) };
    }
  } finally {
    await reader.release();
  }
}
