// Hashes a share's file block by block (fixed blocks when small, content-defined chunks above that), read once.
import { type BlockHashes, type HashContentOptions, hashContent } from "../../../blocks/hash-blocks.ts";
import type { ShareFs } from "../fs/share-fs.ts";

export type FileHashes = BlockHashes;

export async function hashFile(
  fs: ShareFs,
  path: string,
  size: number,
  onBlock?: HashContentOptions["onBlock"],
): Promise<FileHashes> {
  // Never through a symlink swapped in after the lstat: that could read (and send) a file outside the share.
  const handle = await fs.openRead(path);
  try {
    return await hashContent({
      expectedBytes: size,
      onBlock,
      read: (buffer, offset, length, position) => handle.read(buffer, offset, length, position),
    });
  } finally {
    await handle.close();
  }
}
