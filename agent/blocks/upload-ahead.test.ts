import { createHash, randomBytes } from "node:crypto";
import { describe, expect, test } from "vitest";
import { decodeBlockFrames } from "../../shared/blocks/block-frames.ts";
import { UploadAhead } from "./upload-ahead.ts";

const hashOf = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

async function framesOf(parts: Uint8Array[]) {
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const part of parts) controller.enqueue(part);
      controller.close();
    },
  });
  const frames: { hash: string; bytes: Uint8Array }[] = [];
  for await (const frame of decodeBlockFrames(stream))
    frames.push({ hash: frame.hash, bytes: frame.bytes.slice() });
  return frames;
}

describe("UploadAhead", () => {
  test("sends each new block once, as a copy taken at offer time, and skips blocks the hub already has", async () => {
    const bodies: Uint8Array[][] = [];
    const known = randomBytes(1000);
    const ahead = new UploadAhead({
      upload: async (parts) => void bodies.push(parts),
      isKnown: (hash) => hash === hashOf(known),
      batchBytes: 4096,
    });
    const reused = Buffer.alloc(3000);
    const sent: { hash: string; bytes: Uint8Array }[] = [];
    for (let i = 0; i < 5; i++) {
      randomBytes(3000).copy(reused); // the caller's buffer is refilled after each offer
      const bytes = Uint8Array.from(reused);
      sent.push({ hash: hashOf(bytes), bytes });
      await ahead.offer(hashOf(bytes), reused);
    }
    await ahead.offer(sent[0]!.hash, sent[0]!.bytes); // the same block again
    await ahead.offer(hashOf(known), known);
    const totals = await ahead.barrier();
    expect(totals).toEqual({ blocks: 5, bytes: 15_000 });
    const frames = (await Promise.all(bodies.map(framesOf))).flat();
    expect(frames.map((f) => f.hash)).toEqual(sent.map((s) => s.hash));
    for (const [i, frame] of frames.entries())
      expect(Buffer.from(frame.bytes).equals(sent[i]!.bytes)).toBe(true);
    // Bodies stay near batchBytes: one frame of 3 KiB each here.
    expect(bodies).toHaveLength(5);
  });

  test("the barrier waits for uploads in flight, and a failed upload stops sending ahead until the next barrier", async () => {
    let release!: () => void;
    const calls: number[] = [];
    const errors: string[] = [];
    let fail = true;
    const ahead = new UploadAhead({
      upload: (parts) => {
        calls.push(parts.length);
        if (fail) return Promise.reject(new Error("hub unreachable"));
        return new Promise<void>((resolve) => {
          release = resolve;
        });
      },
      isKnown: () => false,
      batchBytes: 100,
      onError: (error) => errors.push(error.message),
    });
    await ahead.offer("a".repeat(64), new Uint8Array(80));
    await ahead.offer("b".repeat(64), new Uint8Array(80)); // sends the first body, which fails
    await new Promise((r) => setTimeout(r, 0));
    await ahead.offer("c".repeat(64), new Uint8Array(80)); // not sent: stopped
    await ahead.barrier();
    expect(errors).toEqual(["hub unreachable"]);
    expect(calls).toHaveLength(1);
    fail = false;
    await ahead.offer("d".repeat(64), new Uint8Array(80));
    let settled = false;
    const barrier = ahead.barrier().then(() => (settled = true));
    await new Promise((r) => setTimeout(r, 10));
    expect(calls).toHaveLength(2);
    expect(settled).toBe(false);
    release();
    await barrier;
    expect(settled).toBe(true);
  });
});
