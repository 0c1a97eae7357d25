import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { applyBlockListDelta, type BlockList, diffBlockLists, MIN_DELTA_BLOCKS } from "./block-list-delta.ts";

const hash = (i: number) => i.toString(16).padStart(64, "0");
const chunked = (ids: number[]): BlockList => ({
  blocks: ids.map(hash),
  blockLengths: ids.map((i) => 100 + i),
});
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

describe("diffBlockLists and applyBlockListDelta", () => {
  test("an insertion at the start of 3,400 chunks is one new chunk and one run of the rest", () => {
    const base = chunked(range(0, 3400));
    const target = chunked([9999, ...range(1, 3400)]);
    const ops = diffBlockLists(base, target);
    expect(ops).toEqual([{ add: [hash(9999)], lengths: [100 + 9999] }, [1, 3399]]);
    expect(applyBlockListDelta(base, ops!)).toEqual({ ok: true, list: target });
  });

  test("an overwrite in the middle is two runs around the new chunk, far smaller than the list", () => {
    const base = chunked(range(0, 3400));
    const target = chunked([...range(0, 1700), 7777, ...range(1701, 3400)]);
    const ops = diffBlockLists(base, target)!;
    expect(ops).toHaveLength(3);
    expect(JSON.stringify(ops).length).toBeLessThan(JSON.stringify(target).length / 100);
  });

  test("fixed blocks carry no lengths either way", () => {
    const base = { blocks: range(0, 40).map(hash) };
    const target = { blocks: [...range(0, 20), 500, ...range(21, 40)].map(hash) };
    const ops = diffBlockLists(base, target)!;
    expect(ops).toEqual([[0, 20], { add: [hash(500)] }, [21, 19]]);
    expect(applyBlockListDelta(base, ops)).toEqual({ ok: true, list: target });
  });

  test("send the whole list when it is short, changes layout, or kept little of the base", () => {
    expect(diffBlockLists(chunked(range(0, 10)), chunked(range(0, 11)))).toBeUndefined();
    expect(diffBlockLists({ blocks: range(0, 40).map(hash) }, chunked(range(0, 40)))).toBeUndefined();
    expect(diffBlockLists(chunked(range(0, 40)), chunked(range(1000, 1040)))).toBeUndefined();
  });

  test("a same block with another length is not copied from the base", () => {
    const base = chunked(range(0, 40));
    const target = {
      blocks: base.blocks,
      blockLengths: base.blockLengths!.map((l, i) => (i === 5 ? l + 1 : l)),
    };
    const ops = diffBlockLists(base, target)!;
    expect(applyBlockListDelta(base, ops)).toEqual({ ok: true, list: target });
  });

  test("any edit of any list: the delta applied to its base gives the target", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 60 }), { minLength: 0, maxLength: 120 }),
        fc.array(fc.integer({ min: 0, max: 80 }), { minLength: MIN_DELTA_BLOCKS, maxLength: 120 }),
        (baseIds, targetIds) => {
          const base = chunked(baseIds);
          const target = chunked(targetIds);
          const ops = diffBlockLists(base, target);
          if (ops) expect(applyBlockListDelta(base, ops)).toEqual({ ok: true, list: target });
        },
      ),
    );
  });

  test("refuse a copy past the base's end and adds whose lengths do not match the base's layout", () => {
    const base = chunked(range(0, 20));
    expect(applyBlockListDelta(base, [[10, 11]])).toEqual({
      ok: false,
      reason: "op 0 copies blocks 10..20 of a base that has 20",
    });
    expect(applyBlockListDelta(base, [{ add: [hash(1)] }])).toMatchObject({ ok: false });
    expect(applyBlockListDelta({ blocks: base.blocks }, [{ add: [hash(1)], lengths: [5] }])).toEqual({
      ok: false,
      reason: "op 0 adds block lengths to a base of fixed blocks",
    });
  });
});
