// Syncthing's block size for a file, derived from the block count its REST API reports.
import { describe, expect, test } from "vitest";
import { syncthingBlockBytes } from "./syncthing-delta.ts";

const KIB = 1024;
const MIB = 1024 * KIB;

describe("syncthingBlockBytes", () => {
  test.each([
    [64 * MIB, 512, 128 * KIB],
    [1024 * MIB, 1024, MIB],
    [1024 * MIB + 4 * KIB, 1025, MIB],
    [100 * KIB, 1, 128 * KIB],
  ])("cuts %i bytes in %i blocks of %i bytes", (size, blocks, want) => {
    expect(syncthingBlockBytes(size, blocks)).toBe(want);
  });

  test("has no figure for an empty file or no blocks", () => {
    expect(syncthingBlockBytes(0, 0)).toBeNull();
    expect(syncthingBlockBytes(1000, 0)).toBeNull();
  });
});
