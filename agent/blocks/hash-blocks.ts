// SHA-256 of bytes, and the block list of content held in memory (a kind whose data is not a file, e.g. Pi-hole).
import { createHash } from "node:crypto";
import { blockSizeFor } from "../../shared/blocks/block-size.ts";
import { contentHash } from "../../shared/blocks/content-hash.ts";

export type BlockHashes = { size: number; blockSize: number; blocks: string[]; hash: string };

export function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** The same blocks and content hash a file with these bytes would get. */
export async function hashBytes(bytes: Uint8Array): Promise<BlockHashes> {
  const blockSize = blockSizeFor(bytes.byteLength);
  const blocks: string[] = [];
  for (let offset = 0; offset < bytes.byteLength; offset += blockSize) {
    blocks.push(sha256(bytes.subarray(offset, offset + blockSize)));
  }
  return {
    size: bytes.byteLength,
    blockSize,
    blocks,
    hash: await contentHash(bytes.byteLength, blockSize, blocks),
  };
}
