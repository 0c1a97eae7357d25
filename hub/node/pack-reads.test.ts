// Read planning: neighbours in a pack share one pread; other packs, wide gaps and big spans start a new one.
import { describe, expect, test } from "vitest";
import { inSteps, type Location, toRuns } from "./pack-reads.ts";

const KIB = 1024;
const at = (pack: number, offset: number, size: number, hash = `${pack}@${offset}`): Location => ({
  hash,
  pack,
  offset,
  size,
});

describe("toRuns", () => {
  test.each([
    [
      "neighbours, asked in any order",
      [at(1, 128 * KIB, 128 * KIB), at(1, 0, 128 * KIB)],
      [[1, 0, 256 * KIB, 2]],
    ],
    ["a small gap is read through", [at(1, 0, 10), at(1, 10 + 60 * KIB, 10)], [[1, 0, 20 + 60 * KIB, 2]]],
    [
      "a wide gap splits",
      [at(1, 0, 10), at(1, 10 + 65 * KIB, 10)],
      [
        [1, 0, 10, 1],
        [1, 10 + 65 * KIB, 20 + 65 * KIB, 1],
      ],
    ],
    [
      "another pack splits",
      [at(1, 0, 10), at(2, 10, 10)],
      [
        [1, 0, 10, 1],
        [2, 10, 20, 1],
      ],
    ],
    [
      "a run stops at 4 MiB",
      [at(1, 0, 3 * 1024 * KIB), at(1, 3 * 1024 * KIB, 2 * 1024 * KIB)],
      [
        [1, 0, 3 * 1024 * KIB, 1],
        [1, 3 * 1024 * KIB, 5 * 1024 * KIB, 1],
      ],
    ],
    ["an empty block joins its neighbour", [at(1, 0, 10), at(1, 10, 0)], [[1, 0, 10, 2]]],
  ])("%s", (_name, rows, expected) => {
    expect(toRuns(rows).map((r) => [r.pack, r.start, r.end, r.rows.length])).toEqual(expected);
  });
});

test("inSteps cuts rows into steps of about the given size, never an empty one", () => {
  const rows = [at(1, 0, 5), at(1, 5, 5), at(1, 10, 5), at(1, 15, 20)];
  expect(inSteps(rows, 10).map((step) => step.length)).toEqual([2, 1, 1]);
  expect(inSteps([], 10)).toEqual([]);
});
