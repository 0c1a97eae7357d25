// A file's content id: derived from its size and block list, so both ends compute it without rereading data.
import { sha256Hex } from "./hex.ts";

/** SHA-256 as lowercase hex: Web Crypto by default; the Node hub and the agent pass node:crypto's (synchronous). */
export type Sha256Hex = (bytes: Uint8Array) => string | Promise<string>;

/**
 * What the content id hashes. Fixed blocks: `size:blockSize:blocks`; content-defined chunks also commit to their
 * lengths (`size:blockSize:len,len,...:blocks`), so an entry cannot claim one layout and carry another.
 */
export function contentHashInput(
  size: number,
  blockSize: number,
  blocks: string[],
  blockLengths?: number[],
): Uint8Array {
  const lengths = blockLengths === undefined ? "" : `${blockLengths.join(",")}:`;
  return new TextEncoder().encode(`${size}:${blockSize}:${lengths}${blocks.join("")}`);
}

export async function contentHash(
  size: number,
  blockSize: number,
  blocks: string[],
  blockLengths?: number[],
  hash: Sha256Hex = sha256Hex,
): Promise<string> {
  return hash(contentHashInput(size, blockSize, blocks, blockLengths));
}
