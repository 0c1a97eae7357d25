// Splits a file into fixed-size blocks and hashes each with SHA-256, reading one block at a time.
import { blockSizeFor } from "../../../../shared/blocks/block-size.ts";
import { contentHash } from "../../../../shared/blocks/content-hash.ts";
import { type BlockHashes, sha256 } from "../../../blocks/hash-blocks.ts";
import type { ShareFs } from "../fs/share-fs.ts";

export type FileHashes = BlockHashes;

export async function hashFile(fs: ShareFs, path: string, size: number): Promise<FileHashes> {
  const blockSize = blockSizeFor(size);
  // A whole block, not min(blockSize, size): the file may have grown since it was stat-ed.
  const buffer = Buffer.allocUnsafe(blockSize);
  const blocks: string[] = [];
  // Never through a symlink swapped in after the lstat: that could read (and send) a file outside the share.
  const handle = await fs.openRead(path);
  let total = 0;
  try {
    while (true) {
      let filled = 0;
      while (filled < buffer.length) {
        const bytesRead = await handle.read(buffer, filled, buffer.length - filled, total + filled);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      if (filled === 0) break;
      blocks.push(sha256(buffer.subarray(0, filled)));
      total += filled;
      if (filled < buffer.length) break;
    }
  } finally {
    await handle.close();
  }
  return { size: total, blockSize, blocks, hash: await contentHash(total, blockSize, blocks) };
}
