// A file's content id: derived from its size and block list, so both ends compute it without rereading data.
import { sha256Hex } from "./hex.ts";

/**
 * Fixed blocks hash `size:blockSize:blocks`; content-defined chunks also commit to their lengths
 * (`size:blockSize:len,len,...:blocks`), so an entry cannot claim one layout and carry another.
 */
export function contentHash(
  size: number,
  blockSize: number,
  blocks: string[],
  blockLengths?: number[],
): Promise<string> {
  const lengths = blockLengths === undefined ? "" : `${blockLengths.join(",")}:`;
  return sha256Hex(new TextEncoder().encode(`${size}:${blockSize}:${lengths}${blocks.join("")}`));
}
