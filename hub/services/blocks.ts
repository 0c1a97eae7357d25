// Block batches in and out of the BlockStore, every block checked against its hash.
import { decodeBlockFrames, encodeBlockFrameHeader } from "../../shared/blocks/block-frames.ts";
import { sha256Hex } from "../../shared/blocks/hex.ts";
import { FleetsyncError } from "../../shared/errors/fleetsync-error.ts";
import { requireBlockRead, requireBlockUpload } from "./block-access.ts";
import type { HubContext } from "./hub-context.ts";

/** Verified blocks are written in batches of about this many bytes: few transactions, bounded memory. */
const STORE_BATCH_BYTES = 8 * 1024 * 1024;

export async function storeBlocks(
  ctx: HubContext,
  input: { deviceId: string; body: ReadableStream<Uint8Array> },
) {
  await requireBlockUpload(ctx, input.deviceId);
  const body = input.body;
  let stored = 0;
  let bytes = 0;
  let pending: { hash: string; bytes: Uint8Array }[] = [];
  let pendingBytes = 0;
  const flush = async () => {
    await ctx.blockStore.put(pending, ctx.now());
    pending = [];
    pendingBytes = 0;
  };
  try {
    for await (const frame of decodeBlockFrames(body)) {
      const actual = await sha256Hex(frame.bytes);
      if (actual !== frame.hash) {
        throw new FleetsyncError(
          "invalid",
          `block ${frame.hash} does not match its content (sha256 is ${actual}); it was not stored`,
        );
      }
      pending.push(frame);
      pendingBytes += frame.bytes.length;
      if (pendingBytes >= STORE_BATCH_BYTES) await flush();
      stored++;
      bytes += frame.bytes.length;
    }
    await flush();
  } catch (error) {
    if (error instanceof FleetsyncError) throw error;
    if (error instanceof Error && error.name === "BlockFrameError")
      throw new FleetsyncError("bad_request", error.message);
    throw error;
  }
  return { stored, bytes };
}

/**
 * Streams the requested blocks that the store has, in request order; absent ones are simply left out.
 * Refused (403) when any of them belongs to no share the device receives.
 */
export async function streamBlocks(
  ctx: HubContext,
  input: { deviceId: string; hashes: string[] },
): Promise<ReadableStream<Uint8Array>> {
  const { hashes } = input;
  await requireBlockRead(ctx, input.deviceId, hashes);
  let index = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      while (index < hashes.length) {
        const hash = hashes[index++]!;
        const bytes = await ctx.blockStore.get(hash);
        if (!bytes) continue;
        controller.enqueue(encodeBlockFrameHeader(hash, bytes.length));
        controller.enqueue(bytes);
        return;
      }
      controller.close();
    },
  });
}
