// Syncthing-style fixed block sizes: 128 KiB, doubled until a file has at most ~2000 blocks (16 MiB max).

export const MIN_BLOCK_BYTES = 128 * 1024;
export const MAX_BLOCK_BYTES = 16 * 1024 * 1024;
export const TARGET_MAX_BLOCKS = 2000;

export function blockSizeFor(fileBytes: number): number {
  let size = MIN_BLOCK_BYTES;
  while (size < MAX_BLOCK_BYTES && fileBytes > size * TARGET_MAX_BLOCKS) size *= 2;
  return size;
}

/** Number of blocks a file of `fileBytes` splits into at `blockBytes` (an empty file has none). */
export function blockCount(fileBytes: number, blockBytes: number): number {
  return Math.ceil(fileBytes / blockBytes);
}
