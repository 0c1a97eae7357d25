import { randomBytes } from "node:crypto";
import { expect, test } from "vitest";
import { hashBytes, hashContent, sha256 } from "./hash-blocks.ts";

/** Reads `bytes` a little at a time, yielding to the event loop between reads, so concurrent hashes interleave. */
function slowReader(bytes: Uint8Array) {
  return async (buffer: Uint8Array, offset: number, length: number, position: number) => {
    await new Promise((resolve) => setImmediate(resolve));
    const part = bytes.subarray(position, position + Math.min(length, 50_000));
    buffer.set(part, offset);
    return part.length;
  };
}

test("files hashed one after another and at once, of the same and other sizes, get the hashes each gets alone", async () => {
  // Same sizes (one read buffer is handed from file to file), fixed blocks and content-defined chunks.
  const contents = [300_000, 300_000, 300_000, 9_000_000, 9_000_000, 1, 0].map((n) => randomBytes(n));
  const alone = [];
  for (const bytes of contents) alone.push(await hashBytes(bytes));
  const seen: string[][] = contents.map(() => []);
  const together = await Promise.all(
    contents.map((bytes, i) =>
      hashContent({
        expectedBytes: bytes.length,
        read: slowReader(bytes),
        onBlock: async (hash, block) => {
          await new Promise((resolve) => setImmediate(resolve));
          // The view is still this file's block while its promise is pending (no other file read into it).
          expect(sha256(block)).toBe(hash);
          seen[i]!.push(hash);
        },
      }),
    ),
  );
  expect(together).toEqual(alone);
  expect(seen).toEqual(alone.map((h) => h.blocks));
  const again = [];
  for (const bytes of contents) again.push(await hashBytes(bytes));
  expect(again).toEqual(alone);
});
