// A sending member of a relay share answers the hub's re-upload requests: reads each block from its own file, re-hashes it, uploads it.
import { encodeBlockFrames } from "../../shared/blocks/block-frames.ts";
import { blockSpans } from "../../shared/blocks/block-spans.ts";
import { FleetsyncError } from "../../shared/errors/fleetsync-error.ts";
import type { WantedBlocksResponse } from "../../shared/protocol/wanted-blocks.ts";
import { sha256 } from "../blocks/hash-blocks.ts";
import { backoffMs, sleep } from "../hub/backoff.ts";
import { indexEntryToEntry } from "../state/share-state.ts";
import type { SessionCore } from "./session-core.ts";

/** How long the hub may hold the question open when nobody waits for a block. */
export const REUPLOAD_POLL_SECONDS = 25;
/** After an answer naming only blocks this member cannot give (it no longer has them), ask again this much later. */
const CANNOT_HELP_PAUSE_MS = 30_000;
const UPLOAD_BATCH_BYTES = 16 * 1024 * 1024;

/**
 * Until the signal aborts: asks the hub which blocks of the share other members wait for, and uploads those this
 * member's current files still have. Ends at once for a `full` share (its hub never drops a current block).
 */
export async function runReuploads(session: SessionCore): Promise<void> {
  const { client, share, log, signal } = session;
  let attempt = 0;
  while (!signal.aborted) {
    try {
      const askedAt = Date.now();
      const answer = await client.wantedBlocks(share.name, REUPLOAD_POLL_SECONDS, signal);
      attempt = 0;
      if (answer.storage !== "relay") return;
      if (answer.blocks.length === 0) {
        // An empty answer long before the wait ended (a stopping hub): don't spin.
        if (Date.now() - askedAt < (REUPLOAD_POLL_SECONDS * 1000) / 2) await sleep(5000, signal);
        continue;
      }
      const sent = await reuploadBlocks(session, answer.blocks);
      if (sent.blocks > 0) {
        log.info("uploaded blocks again that the hub had dropped and another member needs", sent);
      }
      if (sent.skipped > 0) {
        log.debug("asked for blocks this member no longer has as they were", { blocks: sent.skipped });
        if (sent.blocks === 0) await sleep(CANNOT_HELP_PAUSE_MS, signal);
      }
    } catch (error) {
      if (signal.aborted) return;
      // A hub that predates relay storage has no such route, and never drops a block.
      if (error instanceof FleetsyncError && / answered 404: /.test(error.message)) return;
      attempt++;
      const retryable = !(error instanceof FleetsyncError) || error.retryable;
      const wait = retryable ? backoffMs(attempt, Math.random()) : 60_000;
      log[retryable ? "debug" : "warn"]("could not answer the hub's re-upload requests; will retry", {
        error: (error as Error).message,
        retryInMs: wait,
      });
      await sleep(wait, signal);
    }
  }
}

/**
 * Reads each wanted block where this member's index says its file has it, and uploads those whose bytes still hash
 * to it (a file changed since it was indexed is never sent as the old content; its next scan reports it).
 */
export async function reuploadBlocks(
  session: Pick<SessionCore, "client" | "kind" | "open">,
  wanted: WantedBlocksResponse["blocks"],
): Promise<{ blocks: number; bytes: number; skipped: number }> {
  const { state } = await session.open();
  let frames: { hash: string; bytes: Uint8Array }[] = [];
  let batchBytes = 0;
  const sent = { blocks: 0, bytes: 0, skipped: 0 };
  const flush = async () => {
    if (frames.length === 0) return;
    await session.client.uploadBlocks(encodeBlockFrames(frames));
    sent.blocks += frames.length;
    sent.bytes += batchBytes;
    frames = [];
    batchBytes = 0;
  };
  for (const { hash, path } of wanted) {
    const known = state.index[path];
    const span =
      known?.type === "file"
        ? blockSpans(indexEntryToEntry(path, known)).find((s) => s.hash === hash)
        : undefined;
    const bytes = span
      ? await session.kind
          .readBlock({ path, offset: span.offset, length: span.length })
          .catch(() => undefined)
      : undefined;
    if (!span || !bytes || bytes.byteLength !== span.length || sha256(bytes) !== hash) {
      sent.skipped++;
      continue;
    }
    if (batchBytes + bytes.byteLength > UPLOAD_BATCH_BYTES) await flush();
    frames.push({ hash, bytes });
    batchBytes += bytes.byteLength;
  }
  await flush();
  return sent;
}
