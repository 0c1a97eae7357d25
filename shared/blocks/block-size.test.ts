import fc from "fast-check";
import { describe, expect, test } from "vitest";
import {
  blockCount,
  blockSizeFor,
  MAX_BLOCK_BYTES,
  MIN_BLOCK_BYTES,
  TARGET_MAX_BLOCKS,
} from "./block-size.ts";

const KiB = 1024;
const MiB = 1024 * KiB;

describe("blockSizeFor", () => {
  test.each([
    [0, 128 * KiB],
    [1, 128 * KiB],
    [128 * KiB, 128 * KiB],
    [250 * MiB, 128 * KiB],
    [250 * MiB + 1, 256 * KiB],
    [300 * MiB, 256 * KiB],
    [500 * MiB, 256 * KiB],
    [500 * MiB + 1, 512 * KiB],
    [16 * MiB * 2000, 16 * MiB],
    [16 * MiB * 2000 + 1, 16 * MiB],
    [2 ** 50, 16 * MiB],
  ])("uses %i-byte files' block size %i", (fileBytes, expected) => {
    expect(blockSizeFor(fileBytes)).toBe(expected);
  });

  test("splits a 300 MiB file into 1200 blocks of 256 KiB", () => {
    const size = blockSizeFor(300 * MiB);
    expect(blockCount(300 * MiB, size)).toBe(1200);
  });

  test("picks the smallest power-of-two multiple of 128 KiB that keeps a file within 2000 blocks", () => {
    fc.assert(
      fc.property(fc.nat({ max: 2 ** 46 }), (fileBytes) => {
        const size = blockSizeFor(fileBytes);
        expect(size).toBeGreaterThanOrEqual(MIN_BLOCK_BYTES);
        expect(size).toBeLessThanOrEqual(MAX_BLOCK_BYTES);
        expect(Number.isInteger(Math.log2(size / MIN_BLOCK_BYTES))).toBe(true);
        if (size < MAX_BLOCK_BYTES)
          expect(blockCount(fileBytes, size)).toBeLessThanOrEqual(TARGET_MAX_BLOCKS);
        if (size > MIN_BLOCK_BYTES)
          expect(blockCount(fileBytes, size / 2)).toBeGreaterThan(TARGET_MAX_BLOCKS);
      }),
      { numRuns: 1000 },
    );
  });

  test("never shrinks the block size as a file grows", () => {
    fc.assert(
      fc.property(fc.nat({ max: 2 ** 45 }), fc.nat({ max: 2 ** 45 }), (a, b) => {
        const [small, large] = a <= b ? [a, b] : [b, a];
        expect(blockSizeFor(small)).toBeLessThanOrEqual(blockSizeFor(large));
      }),
    );
  });
});

describe("blockCount", () => {
  test.each([
    [0, 0],
    [1, 1],
    [128 * KiB, 1],
    [128 * KiB + 1, 2],
    [256 * KiB, 2],
  ])("splits %i bytes into %i blocks of 128 KiB", (fileBytes, count) => {
    expect(blockCount(fileBytes, 128 * KiB)).toBe(count);
  });
});
