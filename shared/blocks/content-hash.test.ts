import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { contentHash } from "./content-hash.ts";

const ABC = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
const EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const hashArb = fc.stringMatching(/^[0-9a-f]{64}$/);

describe("contentHash", () => {
  // Pinned vectors (sha256 of "size:blockSize:blocks..."): hub and agents must agree on this format.
  test.each([
    [0, 131072, [], "ad8510c3a081b6b57b58e07df21cc314bda89a23b076999e78da377b56ed923b"],
    [3, 131072, [ABC], "2f3047b9da1aa0391e75df83230e9984ece57c5363b4f1f4e915dd417ddd2a82"],
  ])("gives a %i-byte file in %i-byte blocks %j the pinned id", async (size, blockSize, blocks, expected) => {
    expect(await contentHash(size, blockSize, blocks)).toBe(expected);
  });

  test("changes when the size, the block size, a block or the block order changes", async () => {
    const base = await contentHash(4, 131072, [ABC, EMPTY]);
    expect(await contentHash(5, 131072, [ABC, EMPTY])).not.toBe(base);
    expect(await contentHash(4, 262144, [ABC, EMPTY])).not.toBe(base);
    expect(await contentHash(4, 131072, [ABC, ABC])).not.toBe(base);
    expect(await contentHash(4, 131072, [EMPTY, ABC])).not.toBe(base);
    expect(await contentHash(4, 131072, [ABC, EMPTY])).toBe(base);
  });

  test("gives different block lists different ids", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(hashArb, { maxLength: 4 }),
        fc.array(hashArb, { maxLength: 4 }),
        async (a, b) => {
          fc.pre(a.join() !== b.join());
          expect(await contentHash(1, 131072, a)).not.toBe(await contentHash(1, 131072, b));
        },
      ),
      { numRuns: 200 },
    );
  });

  test("commits content-defined chunks to their lengths, and leaves fixed-block ids as they were", async () => {
    const fixed = await contentHash(4, 131072, [ABC, EMPTY]);
    expect(await contentHash(4, 131072, [ABC, EMPTY], undefined)).toBe(fixed);
    const chunked = await contentHash(4, 131072, [ABC, EMPTY], [3, 1]);
    expect(chunked).not.toBe(fixed);
    expect(await contentHash(4, 131072, [ABC, EMPTY], [1, 3])).not.toBe(chunked);
    // Pinned: sha256 of "4:131072:3,1:" + the two hashes.
    expect(chunked).toBe("2741067d62678d319c7a3a1bfca5069196c85d91bb66fe9e5dcf09cb7acf9ed1");
  });

  test("is a lowercase hex SHA-256", async () => {
    expect(await contentHash(1, 131072, [ABC])).toMatch(/^[0-9a-f]{64}$/);
  });
});
