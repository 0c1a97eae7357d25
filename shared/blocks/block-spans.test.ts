import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { blockLayoutProblem, blockSpans } from "./block-spans.ts";

const A = "a".repeat(64);
const B = "b".repeat(64);
const C = "c".repeat(64);

describe("blockSpans", () => {
  test("places an old fixed-block entry (no lengths) at multiples of its block size, the last one short", () => {
    expect(blockSpans({ size: 300, blockSize: 128, blocks: [A, B, C] })).toEqual([
      { hash: A, offset: 0, length: 128 },
      { hash: B, offset: 128, length: 128 },
      { hash: C, offset: 256, length: 44 },
    ]);
  });

  test("places content-defined chunks by their lengths", () => {
    expect(blockSpans({ size: 300, blockSize: 256, blocks: [A, B, C], blockLengths: [10, 250, 40] })).toEqual(
      [
        { hash: A, offset: 0, length: 10 },
        { hash: B, offset: 10, length: 250 },
        { hash: C, offset: 260, length: 40 },
      ],
    );
  });

  test("covers the whole file with no gap and no overlap, for any sound layout", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 1000 }), { maxLength: 50 }), (lengths) => {
        const layout = {
          size: lengths.reduce((a, b) => a + b, 0),
          blockSize: 1000,
          blocks: lengths.map(() => A),
          blockLengths: lengths,
        };
        expect(blockLayoutProblem(layout)).toBeUndefined();
        let offset = 0;
        for (const span of blockSpans(layout)) {
          expect(span.offset).toBe(offset);
          offset += span.length;
        }
        expect(offset).toBe(layout.size);
      }),
    );
  });
});

describe("blockLayoutProblem", () => {
  test.each([
    [
      { size: 129, blockSize: 128, blocks: [A] },
      "1 blocks do not cover 129 bytes (fixed blocks of 128 bytes)",
    ],
    [
      { size: 10, blockSize: 128, blocks: [A, B], blockLengths: [10] },
      "1 block lengths for 2 blocks (one length per block)",
    ],
    [
      { size: 10, blockSize: 128, blocks: [A], blockLengths: [11] },
      "block lengths add up to 11 bytes, not the size 10",
    ],
    [
      { size: 200, blockSize: 128, blocks: [A, B], blockLengths: [190, 10] },
      "block 0 is 190 bytes, outside 1..128 (its blockSize)",
    ],
    [
      { size: 10, blockSize: 128, blocks: [A, B], blockLengths: [10, 0] },
      "block 1 is 0 bytes, outside 1..128 (its blockSize)",
    ],
  ])("refuses %j: %s", (layout, problem) => {
    expect(blockLayoutProblem(layout)).toBe(problem);
  });

  test("accepts an empty file either way", () => {
    expect(blockLayoutProblem({ size: 0, blockSize: 128, blocks: [] })).toBeUndefined();
    expect(blockLayoutProblem({ size: 0, blockSize: 128, blocks: [], blockLengths: [] })).toBeUndefined();
  });
});
