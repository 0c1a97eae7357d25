import { Readable } from "node:stream";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import {
  BLOCK_FRAME_HEADER_BYTES,
  type BlockFrame,
  BlockFrameError,
  decodeBlockFrames,
  encodeBlockFrameHeader,
  encodeBlockFrames,
} from "./block-frames.ts";
import { MAX_BLOCK_BYTES } from "./block-size.ts";

const ABC = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

/** A stream that hands out `bytes` cut at the given offsets (any order, duplicates and out-of-range ignored). */
function streamOf(bytes: Uint8Array, cuts: number[] = []): ReadableStream<Uint8Array> {
  const points = [...new Set(cuts.filter((c) => c > 0 && c < bytes.length))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let start = 0;
  for (const point of [...points, bytes.length]) {
    chunks.push(bytes.slice(start, point));
    start = point;
  }
  return new ReadableStream({
    pull(controller) {
      const next = chunks.shift();
      if (next === undefined) controller.close();
      else controller.enqueue(next);
    },
  });
}

async function decodeAll(stream: ReadableStream<Uint8Array>): Promise<BlockFrame[]> {
  const frames: BlockFrame[] = [];
  for await (const frame of decodeBlockFrames(stream)) frames.push(frame);
  return frames;
}

const frameArb = fc.record({
  hash: fc.stringMatching(/^[0-9a-f]{64}$/),
  bytes: fc.uint8Array({ maxLength: 300 }),
});

describe("block frames", () => {
  test("lay out a frame as hash, big-endian length, bytes", () => {
    const encoded = encodeBlockFrames([{ hash: ABC, bytes: new Uint8Array([1, 2, 3]) }]);
    expect(encoded.length).toBe(BLOCK_FRAME_HEADER_BYTES + 3);
    expect(encoded[0]).toBe(0xba);
    expect(encoded[31]).toBe(0xad);
    expect([...encoded.subarray(32, 36)]).toEqual([0, 0, 0, 3]);
    expect([...encoded.subarray(36)]).toEqual([1, 2, 3]);
    expect(encodeBlockFrameHeader(ABC, 0x01020304).subarray(32)).toEqual(new Uint8Array([1, 2, 3, 4]));
  });

  test("decode what was encoded, however the stream is chunked", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(frameArb, { maxLength: 6 }),
        fc.array(fc.nat({ max: 2000 }), { maxLength: 30 }),
        async (frames, cuts) => {
          const encoded = encodeBlockFrames(frames);
          expect(await decodeAll(streamOf(encoded, cuts))).toEqual(frames);
        },
      ),
      { numRuns: 300 },
    );
  });

  test("decode a stream delivered one byte at a time", async () => {
    const frames = [
      { hash: ABC, bytes: new Uint8Array([9, 8, 7]) },
      { hash: "0".repeat(64), bytes: new Uint8Array() },
      { hash: "f".repeat(64), bytes: new Uint8Array(100).fill(5) },
    ];
    const encoded = encodeBlockFrames(frames);
    const everyByte = Array.from({ length: encoded.length }, (_, i) => i);
    expect(await decodeAll(streamOf(encoded, everyByte))).toEqual(frames);
  });

  test("yield nothing for an empty body", async () => {
    expect(await decodeAll(streamOf(new Uint8Array()))).toEqual([]);
  });

  test("refuse a body cut inside any frame, wherever the cut falls", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(frameArb, { minLength: 1, maxLength: 4 }),
        fc.nat(),
        fc.array(fc.nat({ max: 1500 }), { maxLength: 10 }),
        async (frames, cutSeed, chunkCuts) => {
          const encoded = encodeBlockFrames(frames);
          const boundaries = new Set<number>([0]);
          let offset = 0;
          for (const f of frames) {
            offset += BLOCK_FRAME_HEADER_BYTES + f.bytes.length;
            boundaries.add(offset);
          }
          const cut = cutSeed % encoded.length;
          fc.pre(!boundaries.has(cut));
          await expect(decodeAll(streamOf(encoded.slice(0, cut), chunkCuts))).rejects.toBeInstanceOf(
            BlockFrameError,
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  test("refuse a header that ends early, naming the problem", async () => {
    const encoded = encodeBlockFrames([{ hash: ABC, bytes: new Uint8Array([1]) }]);
    await expect(decodeAll(streamOf(encoded.slice(0, 20)))).rejects.toThrow(/ends inside a frame header/);
    await expect(decodeAll(streamOf(encoded.slice(0, 36)))).rejects.toThrow(`block ${ABC} is truncated`);
  });

  test("refuse a frame that claims more than the largest block, before reading it", async () => {
    const header = encodeBlockFrameHeader(ABC, MAX_BLOCK_BYTES + 1);
    let pulls = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulls += 1;
        controller.enqueue(pulls === 1 ? header : new Uint8Array(1024 * 1024));
      },
    });
    await expect(decodeAll(stream)).rejects.toThrow(/claims 16777217 bytes/);
    expect(pulls).toBeLessThanOrEqual(2);
  });

  test("accept a frame of exactly the largest block size", async () => {
    const bytes = new Uint8Array(MAX_BLOCK_BYTES).fill(7);
    const [frame] = await decodeAll(streamOf(encodeBlockFrames([{ hash: ABC, bytes }]), [1000, 5_000_000]));
    expect(frame?.bytes.length).toBe(MAX_BLOCK_BYTES);
    expect(frame?.hash).toBe(ABC);
  });

  test("hand out the frames before a truncated one, then refuse", async () => {
    const good = { hash: ABC, bytes: new Uint8Array([1, 2]) };
    const encoded = encodeBlockFrames([good, good]);
    const seen: BlockFrame[] = [];
    const decoding = (async () => {
      for await (const frame of decodeBlockFrames(streamOf(encoded.slice(0, encoded.length - 1))))
        seen.push(frame);
    })();
    await expect(decoding).rejects.toBeInstanceOf(BlockFrameError);
    expect(seen).toEqual([good]);
  });
  test("decode a Node stream as it is, however it is chunked, and destroy it when the reader stops early", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(frameArb, { minLength: 1, maxLength: 6 }),
        fc.array(fc.nat({ max: 2000 }), { maxLength: 30 }),
        async (frames, cuts) => {
          const encoded = encodeBlockFrames(frames);
          const points = [...new Set(cuts.filter((c) => c > 0 && c < encoded.length))].sort((a, b) => a - b);
          const chunks = [...points, encoded.length].map((point, i, all) =>
            Buffer.from(encoded.subarray(i === 0 ? 0 : all[i - 1], point)),
          );
          const decoded: BlockFrame[] = [];
          for await (const frame of decodeBlockFrames(Readable.from(chunks, { objectMode: false })))
            decoded.push({ hash: frame.hash, bytes: new Uint8Array(frame.bytes) });
          expect(decoded).toEqual(frames.map((f) => ({ hash: f.hash, bytes: new Uint8Array(f.bytes) })));
        },
      ),
    );
    const stream = Readable.from([
      Buffer.from(encodeBlockFrames([{ hash: ABC, bytes: new Uint8Array(5) }])),
      Buffer.alloc(10),
    ]);
    for await (const frame of decodeBlockFrames(stream)) {
      expect(frame.hash).toBe(ABC);
      break;
    }
    expect(stream.destroyed).toBe(true);
  });
  test("a Node stream that fails or closes before its end fails the decoding, after the frames that came whole", async () => {
    const frame = { hash: ABC, bytes: new Uint8Array([4, 5, 6]) };
    const whole = Buffer.from(encodeBlockFrames([frame]));
    for (const cut of ["error", "close"] as const) {
      const stream = new Readable({ read() {} });
      const seen: BlockFrame[] = [];
      const decoding = (async () => {
        for await (const f of decodeBlockFrames(stream))
          seen.push({ hash: f.hash, bytes: new Uint8Array(f.bytes) });
      })();
      stream.push(whole);
      await new Promise((resolve) => setTimeout(resolve, 10));
      if (cut === "error") stream.destroy(new Error("socket hang up"));
      else stream.destroy();
      await expect(decoding).rejects.toThrow(cut === "error" ? "socket hang up" : "closed before its end");
      expect(seen).toEqual([frame]);
    }
  });
  test("transient: frames cut across chunks come in one reused buffer, each right when it comes", async () => {
    const frames = [1, 2, 3].map((n) => ({ hash: ABC, bytes: new Uint8Array(5000).fill(n) }));
    const encoded = encodeBlockFrames(frames);
    const cuts = Array.from({ length: Math.ceil(encoded.length / 1000) }, (_, i) => i * 1000);
    const seen: { first: number; last: number; buffer: ArrayBufferLike }[] = [];
    for await (const frame of decodeBlockFrames(streamOf(encoded, cuts), { transient: true }))
      seen.push({ first: frame.bytes[0]!, last: frame.bytes[4999]!, buffer: frame.bytes.buffer });
    expect(seen.map((f) => [f.first, f.last])).toEqual([
      [1, 1],
      [2, 2],
      [3, 3],
    ]);
    expect(new Set(seen.map((f) => f.buffer)).size).toBe(1);
    // Without it, each frame keeps its own bytes.
    const kept: Uint8Array[] = [];
    for await (const frame of decodeBlockFrames(streamOf(encoded, cuts))) kept.push(frame.bytes);
    expect(kept.map((b) => b[0])).toEqual([1, 2, 3]);
  });
});
