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

/** Reads frames one by one from a byte stream, holding at most one block in memory. */
export async function* decodeBlockFrames(stream: ReadableStream<Uint8Array>): AsyncGenerator<BlockFrame> {
  const reader = stream.getReader();
  let buffer = new Uint8Array(0);
  let done = false;
  const fill = async (need: number): Promise<boolean> => {
    while (buffer.length < need && !done) {
      const chunk = await reader.read();
      if (chunk.done) {
        done = true;
        break;
      }
      const merged = new Uint8Array(buffer.length + chunk.value.length);
      merged.set(buffer, 0);
      merged.set(chunk.value, buffer.length);
      buffer = merged;
    }
    return buffer.length >= need;
  };
  try {
    while (true) {
      if (!(await fill(BLOCK_FRAME_HEADER_BYTES))) {
        if (buffer.length > 0) throw new BlockFrameError("block batch ends inside a frame header");
        return;
      }
      const hash = toHex(buffer.subarray(0, 32));
      const length = new DataView(buffer.buffer, buffer.byteOffset, buffer.length).getUint32(32, false);
      if (length > MAX_BLOCK_BYTES)
        throw new BlockFrameError(`block ${hash} claims ${length} bytes (max ${MAX_BLOCK_BYTES})`);
      if (!(await fill(BLOCK_FRAME_HEADER_BYTES + length))) {
        throw new BlockFrameError(`block ${hash} is truncated`);
      }
      const bytes = buffer.slice(BLOCK_FRAME_HEADER_BYTES, BLOCK_FRAME_HEADER_BYTES + length);
      buffer = buffer.slice(BLOCK_FRAME_HEADER_BYTES + length);
      yield { hash, bytes };
    }
  } finally {
    reader.releaseLock();
  }
}
