// How a file of a given size is cut: one fixed block when small, content-defined chunks (FastCDC) above that.
import { blockSizeFor, MAX_BLOCK_BYTES, MIN_BLOCK_BYTES } from "./block-size.ts";

/** Files up to this size stay fixed blocks (one 128 KiB block): chunking them would gain nothing. */
export const CDC_THRESHOLD_BYTES = MIN_BLOCK_BYTES;
/** The smallest average chunk (for files just above the threshold). */
export const CDC_MIN_AVG_BYTES = 64 * 1024;
/** The largest average chunk: its maximum (4×) is the largest block the hub accepts. */
export const CDC_MAX_AVG_BYTES = MAX_BLOCK_BYTES / 4;
/** The average chunk doubles until a file has at most this many chunks on average. */
export const CDC_TARGET_CHUNKS = 4096;
/**
 * Above this, files keep fixed 16 MiB blocks: even all-minimum chunks (1 MiB at the largest average) stay within the
 * hub's 100,000 blocks per entry up to here.
 */
export const CDC_MAX_FILE_BYTES = 64 * 1024 * 1024 * 1024;

export type CdcParams = { minBytes: number; avgBytes: number; maxBytes: number };
export type Chunking = { kind: "fixed"; blockBytes: number } | ({ kind: "cdc" } & CdcParams);

/**
 * The chunking of a file of `fileBytes`: tiers of average chunk size (64 KiB doubled up to 4 MiB, ~4096 chunks per
 * file), min = avg/4 and max = avg×4 (FastCDC's normalised chunking keeps most chunks near the average).
 */
export function chunkingFor(fileBytes: number): Chunking {
  if (fileBytes <= CDC_THRESHOLD_BYTES || fileBytes > CDC_MAX_FILE_BYTES)
    return { kind: "fixed", blockBytes: blockSizeFor(fileBytes) };
  let avgBytes = CDC_MIN_AVG_BYTES;
  while (avgBytes < CDC_MAX_AVG_BYTES && fileBytes > avgBytes * CDC_TARGET_CHUNKS) avgBytes *= 2;
  return { kind: "cdc", minBytes: avgBytes / 4, avgBytes, maxBytes: avgBytes * 4 };
}
