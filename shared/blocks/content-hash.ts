// A file's content id: derived from its size and block list, so both ends compute it without rereading data.
import { sha256Hex } from "./hex.ts";

export function contentHash(size: number, blockSize: number, blocks: string[]): Promise<string> {
  return sha256Hex(new TextEncoder().encode(`${size}:${blockSize}:${blocks.join("")}`));
}
