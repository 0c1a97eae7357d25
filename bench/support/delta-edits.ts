// The delta bench's two edits of one large file (4 KiB overwritten in the middle, 4 KiB inserted at the start), and how their arrival is seen.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { open, rename, stat } from "node:fs/promises";
import { waitFor } from "../../test/support/fleet.ts";

export const EDIT_BYTES = 4096;

/** Overwrites EDIT_BYTES in place at the middle of a `fileBytes`-long file: size unchanged, one region differs. */
export async function overwriteInMiddle(file: string, fileBytes: number): Promise<void> {
  const handle = await open(file, "r+");
  try {
    await handle.write(Buffer.alloc(EDIT_BYTES, 0x5a), 0, EDIT_BYTES, Math.floor(fileBytes / 2));
  } finally {
    await handle.close();
  }
}

/**
 * Puts EDIT_BYTES in front of the file's content: built at `scratchPath` (outside the synced folder, same
 * filesystem) and renamed over `file`, so no syncer ever sees (and syncs) a half-written copy.
 */
export async function insertAtStart(file: string, scratchPath: string): Promise<void> {
  const out = await open(scratchPath, "w");
  try {
    await out.write(Buffer.alloc(EDIT_BYTES, 0xa5), 0, EDIT_BYTES, 0);
    let position = EDIT_BYTES;
    for await (const chunk of createReadStream(file, { highWaterMark: 4 * 1024 * 1024 })) {
      await out.write(chunk as Buffer, 0, (chunk as Buffer).length, position);
      position += (chunk as Buffer).length;
    }
  } finally {
    await out.close();
  }
  await rename(scratchPath, file);
}

export async function digest(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path, { highWaterMark: 4 * 1024 * 1024 })) hash.update(chunk);
  return hash.digest("hex");
}

/**
 * Waits until `copy` has `original`'s size and mtime (both syncers set the source's mtime once the content is in
 * place); the caller checks the content byte for byte afterwards.
 */
export async function waitForSizeAndMtime(original: string, copy: string, timeoutMs: number): Promise<void> {
  const want = await stat(original);
  await waitFor(
    async () => {
      const got = await stat(copy).catch(() => undefined);
      return got && got.size === want.size && Math.trunc(got.mtimeMs) === Math.trunc(want.mtimeMs);
    },
    { timeoutMs, intervalMs: 100, what: `${copy} to match ${original}` },
  );
}
