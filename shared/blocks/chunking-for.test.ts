import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { MAX_BLOCK_BYTES } from "./block-size.ts";
import { CDC_MAX_FILE_BYTES, CDC_THRESHOLD_BYTES, chunkingFor } from "./chunking-for.ts";
import { GEAR_TABLE } from "./gear-table.ts";

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

describe("chunkingFor", () => {
  test.each([
    [0, { kind: "fixed", blockBytes: 128 * KiB }],
    [128 * KiB, { kind: "fixed", blockBytes: 128 * KiB }],
    [128 * KiB + 1, { kind: "cdc", minBytes: 16 * KiB, avgBytes: 64 * KiB, maxBytes: 256 * KiB }],
    [64 * MiB, { kind: "cdc", minBytes: 16 * KiB, avgBytes: 64 * KiB, maxBytes: 256 * KiB }],
    [160 * MiB, { kind: "cdc", minBytes: 16 * KiB, avgBytes: 64 * KiB, maxBytes: 256 * KiB }],
    [160 * MiB + 1, { kind: "cdc", minBytes: 64 * KiB, avgBytes: 256 * KiB, maxBytes: MiB }],
    [GiB, { kind: "cdc", minBytes: 64 * KiB, avgBytes: 256 * KiB, maxBytes: MiB }],
    [6 * GiB + 1, { kind: "cdc", minBytes: 256 * KiB, avgBytes: MiB, maxBytes: 4 * MiB }],
    [CDC_MAX_FILE_BYTES, { kind: "cdc", minBytes: MiB, avgBytes: 4 * MiB, maxBytes: 16 * MiB }],
    [CDC_MAX_FILE_BYTES + 1, { kind: "fixed", blockBytes: 16 * MiB }],
  ])("cuts a %i-byte file as %j", (fileBytes, expected) => {
    expect(chunkingFor(fileBytes)).toEqual(expected);
  });

  test("keeps every chunked file within the hub's limits: blocks ≤ 16 MiB, ≤ 100,000 blocks even if all are minimal", () => {
    fc.assert(
      fc.property(fc.integer({ min: CDC_THRESHOLD_BYTES + 1, max: CDC_MAX_FILE_BYTES }), (fileBytes) => {
        const chunking = chunkingFor(fileBytes);
        expect(chunking.kind).toBe("cdc");
        if (chunking.kind !== "cdc") return;
        expect(chunking.maxBytes).toBeLessThanOrEqual(MAX_BLOCK_BYTES);
        expect(Math.ceil(fileBytes / chunking.minBytes)).toBeLessThanOrEqual(100_000);
        expect(chunking.minBytes * 4).toBe(chunking.avgBytes);
        expect(chunking.avgBytes * 4).toBe(chunking.maxBytes);
      }),
      { numRuns: 1000 },
    );
  });

  test("never shrinks the average chunk as a file grows", () => {
    fc.assert(
      fc.property(fc.nat({ max: CDC_MAX_FILE_BYTES }), fc.nat({ max: CDC_MAX_FILE_BYTES }), (a, b) => {
        const [small, large] = a <= b ? [a, b] : [b, a];
        const x = chunkingFor(small);
        const y = chunkingFor(large);
        if (x.kind === "cdc" && y.kind === "cdc") expect(x.avgBytes).toBeLessThanOrEqual(y.avgBytes);
      }),
    );
  });
});

// Regression: tiers doubled at powers of two (1 GiB was the last size of one tier), so 4 KiB inserted into a
// 1 GiB file moved it to the next tier, every cut point changed and the whole file was sent again (bench: 973 MB).
test.each([[64 * MiB], [GiB], [2 * GiB], [4 * GiB]])(
  "cuts a %i-byte file and the same file grown by 4 KiB alike (no tier boundary at a power of two)",
  (fileBytes) => {
    expect(chunkingFor(fileBytes + 4096)).toEqual(chunkingFor(fileBytes));
    expect(chunkingFor(fileBytes - 4096)).toEqual(chunkingFor(fileBytes));
  },
);

describe("GEAR_TABLE", () => {
  test('is the first four bytes of SHA-256("fleetsync gear <i>") for i = 0..255, as its header says', () => {
    expect(GEAR_TABLE).toHaveLength(256);
    for (let i = 0; i < 256; i++) {
      const expected = createHash("sha256").update(`fleetsync gear ${i}`).digest().readUInt32BE(0);
      expect(GEAR_TABLE[i]).toBe(expected);
    }
  });
});
