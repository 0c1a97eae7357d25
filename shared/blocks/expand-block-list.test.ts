import { describe, expect, test } from "vitest";
import { type BlockListDelta, diffBlockLists } from "./block-list-delta.ts";
import { contentHash } from "./content-hash.ts";
import { expandBlockList } from "./expand-block-list.ts";

const hash = (i: number) => i.toString(16).padStart(64, "0");

async function version(ids: number[]) {
  const blocks = ids.map(hash);
  const blockLengths = ids.map(() => 1000);
  const size = ids.length * 1000;
  return {
    path: "big.bin",
    size,
    blockSize: 4096,
    blocks,
    blockLengths,
    hash: await contentHash(size, 4096, blocks, blockLengths),
  };
}

async function deltaEntry() {
  const base = await version(Array.from({ length: 50 }, (_, i) => i));
  const next = await version([900, ...Array.from({ length: 50 }, (_, i) => i)]);
  const blocksFrom: BlockListDelta = { base: base.hash, ops: diffBlockLists(base, next)! };
  const { blocks: _b, blockLengths: _l, ...rest } = next;
  return { base, next, entry: { ...rest, blocks: [] as string[], blocksFrom } };
}

describe("expandBlockList", () => {
  test("gives the whole entry when the base is the one the delta names and the list hashes to the entry's hash", async () => {
    const { base, next, entry } = await deltaEntry();
    expect(await expandBlockList(entry, base)).toEqual({ ok: true, entry: next });
  });

  test("an entry without blocksFrom comes back unchanged", async () => {
    const { next } = await deltaEntry();
    expect(await expandBlockList(next, undefined)).toEqual({ ok: true, entry: next });
  });

  test("a base that is not the one named is a wrong base, so the sender can fall back to the whole list", async () => {
    const { entry } = await deltaEntry();
    const other = await version([1, 2, 3]);
    const answer = await expandBlockList(entry, other);
    expect(answer).toMatchObject({ ok: false, wrongBase: true });
    expect(answer.ok ? "" : answer.reason).toMatch(/blocksFrom names base .* send the whole block list/);
    expect(await expandBlockList(entry, undefined)).toMatchObject({ ok: false, wrongBase: true });
  });

  test("a list that does not hash to the entry's content hash is refused", async () => {
    const { base, entry } = await deltaEntry();
    const forged = {
      ...entry,
      blocksFrom: {
        ...entry.blocksFrom,
        ops: [{ add: [hash(901)], lengths: [1000] }, [0, 50] as [number, number]],
      },
    };
    const answer = await expandBlockList(forged, base);
    expect(answer).toMatchObject({ ok: false, wrongBase: false });
    expect(answer.ok ? "" : answer.reason).toMatch(/hashes to [0-9a-f]{64}, not the entry's hash/);
  });

  test("an entry with both a list and blocksFrom is refused", async () => {
    const { base, next, entry } = await deltaEntry();
    const answer = await expandBlockList({ ...entry, blocks: next.blocks }, base);
    expect(answer).toMatchObject({ ok: false, wrongBase: false });
  });
});
