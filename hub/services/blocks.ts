// Block batches in and out of the BlockStore, every block checked against its hash.
import { decodeBlockFrames, encodeBlockFrameHeader } from "../../shared/blocks/block-frames.ts";
import { FleetsyncError } from "../../shared/errors/fleetsync-error.ts";
import { requireBlockRead, requireBlockUpload } from "./block-access.ts";
import type { HubContext } from "./hub-context.ts";
import { recordRelayWants } from "./relay-wants.ts";

/** Verified blocks are written in batches of about this many bytes: few transactions, bounded memory. */
const STORE_BATCH_BYTES = 8 * 1024 * 1024;
/** Blocks read from the store per query when serving a download (a few MiB at 128 KiB blocks). */
const SERVE_WINDOW_BLOCKS = 32;

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
  // One batch is written while the next is read and verified; at most one write is in flight.
  let writing: Promise<void> | undefined;
  const flush = async () => {
    await writing;
    if (pending.length === 0) return;
    writing = ctx.blockStore.put(pending, ctx.now());
    writing.catch(() => {}); // awaited by the next flush or at the end; never left unhandled meanwhile
    pending = [];
    pendingBytes = 0;
  };
  try {
    for await (const frame of decodeBlockFrames(body)) {
      const actual = await ctx.hashBlock(frame.bytes);
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
    await writing;
  } catch (error) {
    await writing?.catch(() => {});
    if (error instanceof FleetsyncError) throw error;
    if (error instanceof Error && error.name === "BlockFrameError")
      throw new FleetsyncError("bad_request", error.message);
    throw error;
  }
  return { stored, bytes };
}

/**
 * Streams the requested blocks that the store has, in request order; absent ones are simply left out.
 * Refused (403) when any of them belongs to no share the device receives. An absent block of a `relay` share was
 * dropped once everyone had it: a re-upload request is recorded for it (`reuploadRequested`), and the device asks
 * again later.
 */
export async function streamBlocks(
  ctx: HubContext,
  input: { deviceId: string; hashes: string[] },
): Promise<{ stream: ReadableStream<Uint8Array>; reuploadRequested: boolean }> {
  const { hashes } = input;
  const { relayOnly } = await requireBlockRead(ctx, input.deviceId, hashes);
  let reuploadRequested = false;
  if (relayOnly.size > 0) {
    const stored = await ctx.blockStore.has([...relayOnly.keys()]);
    const wants = [...relayOnly]
      .filter(([hash]) => !stored.has(hash))
      .flatMap(([hash, shares]) => shares.map((share) => ({ share, hash })));
    await recordRelayWants(ctx, { deviceId: input.deviceId, wants });
    reuploadRequested = wants.length > 0;
  }
  // One store query per window of blocks; the next window is read while this one is sent.
  const windows: string[][] = [];
  for (let i = 0; i < hashes.length; i += SERVE_WINDOW_BLOCKS)
    windows.push(hashes.slice(i, i + SERVE_WINDOW_BLOCKS));
  let next = 0;
  const read = (i: number) => {
    const window = windows[i];
    if (!window) return undefined;
    const reading = ctx.blockStore.getMany(window);
    reading.catch(() => {}); // awaited by the pull that sends this window
    return reading;
  };
  let ahead = read(next);
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      while (ahead) {
        const window = windows[next]!;
        const found = await ahead;
        next++;
        ahead = read(next);
        let sent = false;
        for (const hash of window) {
          const bytes = found.get(hash);
          if (!bytes) continue;
          controller.enqueue(encodeBlockFrameHeader(hash, bytes.length));
          controller.enqueue(bytes);
          sent = true;
        }
        if (sent) return;
      }
      controller.close();
    },
  });
  return { stream, reuploadRequested };
}
