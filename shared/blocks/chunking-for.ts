// How a file of a given size is cut: one fixed block when small, content-defined chunks (FastCDC) above that.
import { blockSizeFor, MAX_BLOCK_BYTES, MIN_BLOCK_BYTES } from "./block-size.ts";

/** Files up to this size stay fixed blocks (one 128 KiB block): chunking them would gain nothing. */
export const CDC_THRESHOLD_BYTES = MIN_BLOCK_BYTES;
/**
 * Average chunk size by file size, smallest files first. Tiers are few and far apart on purpose: a file
 * that grows across a boundary is cut anew (sent whole once), so boundaries sit away from common sizes. 64 KiB up
 * to 160 MiB (about where a 256 KiB chunk starts costing fewer bytes per small edit: chunk bytes re-sent against
 * ~150 bytes of block list per chunk in reports); 256 KiB up to 6 GiB; 1 MiB up to 24 GiB; 4 MiB up to 64 GiB. Each
 * tier keeps even all-minimum chunks (avg/4) within the hub's 100,000 blocks per entry.
 */
const TIERS: readonly { upToBytes: number; avgBytes: number }[] = [
  { upToBytes: 160 * 1024 * 1024, avgBytes: 64 * 1024 },
  { upToBytes: 6 * 1024 * 1024 * 1024, avgBytes: 256 * 1024 },
  { upToBytes: 24 * 1024 * 1024 * 1024, avgBytes: 1024 * 1024 },
  { upToBytes: 64 * 1024 * 1024 * 1024, avgBytes: MAX_BLOCK_BYTES / 4 },
];
/** Above this, files keep fixed 16 MiB blocks (up to 1.6 TB within the hub's 100,000 blocks per entry). */
export const CDC_MAX_FILE_BYTES = TIERS.at(-1)!.upToBytes;

export type CdcParams = { minBytes: number; avgBytes: number; maxBytes: number };
export type Chunking = { kind: "fixed"; blockBytes: number } | ({ kind: "cdc" } & CdcParams);

/** The chunking of a file of `fileBytes`: min = avg/4 and max = avg×4 (normalised chunking keeps most near avg). */
export function chunkingFor(fileBytes: number): Chunking {
  const tier = TIERS.find((t) => fileBytes <= t.upToBytes);
  if (fileBytes <= CDC_THRESHOLD_BYTES || !tier)
    return { kind: "fixed", blockBytes: blockSizeFor(fileBytes) };
  const avgBytes = tier.avgBytes;
  return { kind: "cdc", minBytes: avgBytes / 4, avgBytes, maxBytes: avgBytes * 4 };
}
