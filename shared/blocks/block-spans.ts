// Where each block of a file lies: fixed blocks at multiples of blockSize, content-defined chunks by their lengths.
import { blockCount } from "./block-size.ts";

/** The part of an entry that places its blocks; `blockLengths` absent means fixed blocks of `blockSize`. */
export type BlockLayout = {
  size: number;
  blockSize: number;
  blocks: string[];
  blockLengths?: number[] | undefined;
};

export type BlockSpan = { hash: string; offset: number; length: number };

/** What is wrong with a layout (its blocks cannot make up its size), or undefined when it is sound. */
export function blockLayoutProblem(layout: BlockLayout): string | undefined {
  const { size, blockSize, blocks, blockLengths } = layout;
  if (blockLengths === undefined) {
    return blocks.length === blockCount(size, blockSize)
      ? undefined
      : `${blocks.length} blocks do not cover ${size} bytes (fixed blocks of ${blockSize} bytes)`;
  }
  if (blockLengths.length !== blocks.length)
    return `${blockLengths.length} block lengths for ${blocks.length} blocks (one length per block)`;
  let total = 0;
  for (const [i, length] of blockLengths.entries()) {
    if (length < 1 || length > blockSize)
      return `block ${i} is ${length} bytes, outside 1..${blockSize} (its blockSize)`;
    total += length;
  }
  return total === size ? undefined : `block lengths add up to ${total} bytes, not the size ${size}`;
}

/** Each block's hash, offset and length, in file order (the layout must be sound: see blockLayoutProblem). */
export function blockSpans(layout: BlockLayout): BlockSpan[] {
  const spans: BlockSpan[] = [];
  let offset = 0;
  layout.blocks.forEach((hash, i) => {
    const length = layout.blockLengths?.[i] ?? Math.min(layout.blockSize, layout.size - offset);
    spans.push({ hash, offset, length });
    offset += length;
  });
  return spans;
}
