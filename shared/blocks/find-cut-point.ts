// FastCDC's cut-point search (gear rolling hash, normalised chunking): where the next content-defined chunk ends.
import type { CdcParams } from "./chunking-for.ts";
import { GEAR_TABLE } from "./gear-table.ts";

const GEAR = Int32Array.from(GEAR_TABLE);

/** The top `bits` bits of a 32-bit word: the gear hash's high bits depend on the most recent 32 bytes. */
function topBitsMask(bits: number): number {
  return ((2 ** bits - 1) * 2 ** (32 - bits)) | 0;
}

const masks = new Map<number, { small: number; large: number }>();

function masksFor(avgBytes: number): { small: number; large: number } {
  let found = masks.get(avgBytes);
  if (!found) {
    const bits = Math.round(Math.log2(avgBytes));
    // Harder to cut before the average, easier after it: chunk sizes bunch around the average.
    found = { small: topBitsMask(bits + 1), large: topBitsMask(bits - 1) };
    masks.set(avgBytes, found);
  }
  return found;
}

/**
 * The length of the chunk that starts at `start` in `data[start, end)`. Give it at least `maxBytes` bytes unless
 * the file ends at `end`: the answer depends only on those bytes, so the same content is cut the same way however
 * it was read.
 */
export function findCutPoint(data: Uint8Array, start: number, end: number, params: CdcParams): number {
  const available = end - start;
  if (available <= params.minBytes) return available;
  const limit = Math.min(available, params.maxBytes);
  const normal = Math.min(params.avgBytes, limit);
  const { small, large } = masksFor(params.avgBytes);
  // Warm the hash up on the 32 bytes before the first candidate, so a cut depends only on the 32 bytes before it,
  // never on where this chunk began: after an insertion the cuts fall back in step sooner.
  let hash = 0;
  let i = start + params.minBytes;
  for (let j = Math.max(start, i - 32); j < i; j++) hash = ((hash << 1) + GEAR[data[j]!]!) | 0;
  for (const stop = start + normal; i < stop; i++) {
    hash = ((hash << 1) + GEAR[data[i]!]!) | 0;
    if ((hash & small) === 0) return i + 1 - start;
  }
  for (const stop = start + limit; i < stop; i++) {
    hash = ((hash << 1) + GEAR[data[i]!]!) | 0;
    if ((hash & large) === 0) return i + 1 - start;
  }
  return limit;
}

/** The chunk lengths of bytes held in memory (the whole content: the last chunk ends where it ends). */
export function cutChunks(data: Uint8Array, params: CdcParams): number[] {
  const lengths: number[] = [];
  for (let start = 0; start < data.length; ) {
    const length = findCutPoint(data, start, data.length, params);
    lengths.push(length);
    start += length;
  }
  return lengths;
}
