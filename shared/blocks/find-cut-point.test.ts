import fc from "fast-check";
import { describe, expect, test } from "vitest";
import type { CdcParams } from "./chunking-for.ts";
import { cutChunks, findCutPoint } from "./find-cut-point.ts";

// Small parameters, so random inputs of a few KiB hold dozens of chunks.
const SMALL: CdcParams = { minBytes: 64, avgBytes: 256, maxBytes: 1024 };
const TIER_64K: CdcParams = { minBytes: 16 * 1024, avgBytes: 64 * 1024, maxBytes: 256 * 1024 };

/** Deterministic pseudo-random bytes (xorshift32): the same on every machine, so cut points can be pinned. */
function xorshiftBytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/** Cuts as a streaming reader does: it never sees more than `maxBytes` past a chunk's start. */
function cutWithShortLookahead(data: Uint8Array, params: CdcParams): number[] {
  const lengths: number[] = [];
  for (let start = 0; start < data.length; ) {
    const window = data.slice(start, Math.min(data.length, start + params.maxBytes));
    const length = findCutPoint(window, 0, window.length, params);
    lengths.push(length);
    start += length;
  }
  return lengths;
}

function chunksOf(data: Uint8Array, lengths: number[]): string[] {
  const out: string[] = [];
  let offset = 0;
  for (const length of lengths) {
    out.push(Buffer.from(data.subarray(offset, offset + length)).toString("hex"));
    offset += length;
  }
  return out;
}

/** The end offset of each chunk. */
function prefixSums(lengths: number[]): number[] {
  let sum = 0;
  return lengths.map((length) => (sum += length));
}

const dataArb = fc.uint8Array({ minLength: 0, maxLength: 12_000 });

describe("findCutPoint", () => {
  // Pinned: a change here re-chunks every file on every machine (and re-sends them); it must be deliberate.
  test("cuts a fixed 1 MiB input at the pinned points (64 KiB average)", () => {
    expect(cutChunks(xorshiftBytes(1024 * 1024, 0x12345678), TIER_64K)).toEqual([
      146057, 120660, 179682, 97362, 73965, 80241, 28819, 31583, 58560, 20454, 31047, 95960, 84186,
    ]);
  });

  test("cuts a fixed 20,000-byte input at the pinned points (1 KiB average)", () => {
    expect(cutChunks(xorshiftBytes(20_000, 7), { minBytes: 256, avgBytes: 1024, maxBytes: 4096 })).toEqual([
      1197, 1135, 1054, 1026, 1047, 1611, 1940, 1315, 939, 714, 1522, 1108, 269, 1235, 543, 310, 1890, 459,
      434, 252,
    ]);
  });

  test("cuts content with no cut point (all zeros) at the maximum chunk size", () => {
    expect(cutChunks(new Uint8Array(300_000), TIER_64K)).toEqual([262144, 37856]);
  });

  test("gives the same cut points on every run and whatever lookahead beyond maxBytes it is given", () => {
    fc.assert(
      fc.property(dataArb, (data) => {
        const lengths = cutChunks(data, SMALL);
        expect(cutChunks(data.slice(), SMALL)).toEqual(lengths);
        expect(cutWithShortLookahead(data, SMALL)).toEqual(lengths);
      }),
      { numRuns: 300 },
    );
  });

  test("cuts chunks that add up to the input, each within min..max (only the last may be shorter)", () => {
    fc.assert(
      fc.property(dataArb, (data) => {
        const lengths = cutChunks(data, SMALL);
        expect(lengths.reduce((a, b) => a + b, 0)).toBe(data.length);
        expect(chunksOf(data, lengths).join("")).toBe(Buffer.from(data).toString("hex"));
        lengths.forEach((length, i) => {
          expect(length).toBeLessThanOrEqual(SMALL.maxBytes);
          if (i < lengths.length - 1) expect(length).toBeGreaterThanOrEqual(SMALL.minBytes);
          else expect(length).toBeGreaterThanOrEqual(1);
        });
      }),
      { numRuns: 300 },
    );
  });

  test("an insertion or deletion changes only the chunks around it: those before stay, and after it the cuts fall back in step", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 4000, maxLength: 16_000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.uint8Array({ minLength: 1, maxLength: 300 }),
        fc.boolean(),
        (data, where, inserted, isDeletion) => {
          const at = Math.floor(where * data.length);
          const removed = isDeletion ? Math.min(inserted.length, data.length - at) : 0;
          const edited = isDeletion
            ? new Uint8Array([...data.subarray(0, at), ...data.subarray(at + removed)])
            : new Uint8Array([...data.subarray(0, at), ...inserted, ...data.subarray(at)]);
          const shift = isDeletion ? -removed : inserted.length;
          const beforeLengths = cutChunks(data, SMALL);
          const afterLengths = cutChunks(edited, SMALL);
          const before = chunksOf(data, beforeLengths);
          const after = chunksOf(edited, afterLengths);
          // Every chunk that ends at or before the edit is unchanged, in place (not the last: the end of the data
          // cut that one, and an edit there moves the end).
          let end = 0;
          for (const [i, chunk] of before.entries()) {
            end += chunk.length / 2;
            if (end > at || i === before.length - 1) break;
            expect(after[i]).toBe(chunk);
          }
          // From the first cut past the edit that both share (shifted by the edit), every later chunk is the same.
          const oldCuts = prefixSums(beforeLengths).map((cut) => cut + shift);
          const newCuts = prefixSums(afterLengths);
          const rejoin = newCuts.findIndex((cut) => cut > at + Math.max(shift, 0) && oldCuts.includes(cut));
          if (rejoin >= 0) {
            const k = oldCuts.indexOf(newCuts[rejoin]!);
            expect(after.slice(rejoin + 1)).toEqual(before.slice(k + 1));
          }
          // And they fall back in step within a few chunks (every run is seeded: the same cases each time).
          const old = new Set(before);
          const fresh = after.filter((chunk) => !old.has(chunk));
          expect(fresh.length).toBeLessThanOrEqual(8 + Math.ceil(Math.max(shift, 0) / SMALL.minBytes));
        },
      ),
      { numRuns: 300, seed: 20261202 },
    );
  });

  test("resends a small fraction of a 4 MiB input after a 4 KiB insertion at its start", () => {
    const data = xorshiftBytes(4 * 1024 * 1024, 99);
    const edited = new Uint8Array(data.length + 4096);
    edited.set(xorshiftBytes(4096, 5), 0);
    edited.set(data, 4096);
    const old = new Set(chunksOf(data, cutChunks(data, TIER_64K)));
    const after = chunksOf(edited, cutChunks(edited, TIER_64K));
    const freshBytes = after.filter((c) => !old.has(c)).reduce((sum, c) => sum + c.length / 2, 0);
    expect(freshBytes).toBeLessThan(TIER_64K.maxBytes * 2);
    expect(after.length).toBeGreaterThan(40);
  });
});
