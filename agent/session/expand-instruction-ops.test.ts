import { describe, expect, test } from "vitest";
import { diffBlockLists } from "../../shared/blocks/block-list-delta.ts";
import { contentHash } from "../../shared/blocks/content-hash.ts";
import type { SequencedEntry } from "../../shared/protocol/entry.ts";
import type { IndexEntry } from "../state/share-state.ts";
import { expandInstructionOps } from "./expand-instruction-ops.ts";

const hash = (i: number) => i.toString(16).padStart(64, "0");

async function fileOf(ids: number[]) {
  const blocks = ids.map(hash);
  const blockLengths = ids.map(() => 10);
  const size = ids.length * 10;
  return {
    size,
    blockSize: 4096,
    blocks,
    blockLengths,
    hash: await contentHash(size, 4096, blocks, blockLengths),
  };
}

async function setup() {
  const held = await fileOf(Array.from({ length: 30 }, (_, i) => i));
  const next = await fileOf([99, ...Array.from({ length: 29 }, (_, i) => i + 1)]);
  const whole: SequencedEntry = { path: "big.bin", seq: 3, type: "file", mode: 0o644, mtimeMs: 5, ...next };
  const { blockLengths: _, ...rest } = whole;
  const op: SequencedEntry = {
    ...rest,
    blocks: [],
    blocksFrom: { base: held.hash, ops: diffBlockLists(held, next)! },
  };
  const index: Record<string, IndexEntry> = {
    "big.bin": { type: "file", mtimeMs: 1, ino: 1, mode: 0o644, ...held },
  };
  return { whole, op, index };
}

describe("expandInstructionOps", () => {
  test("expands a delta against the indexed version into the whole signed entry", async () => {
    const { whole, op, index } = await setup();
    const dir: SequencedEntry = {
      path: "d",
      seq: 2,
      type: "dir",
      size: 0,
      mode: 0o755,
      mtimeMs: 0,
      blockSize: 4096,
      blocks: [],
      hash: "",
    };
    expect(await expandInstructionOps([dir, op], index)).toEqual({ ok: true, ops: [dir, whole] });
  });

  test("says the base is missing when the index holds another version or none, so the agent asks for whole lists", async () => {
    const { op, index } = await setup();
    const other = { ...index["big.bin"]!, hash: hash(7) };
    expect(await expandInstructionOps([op], { "big.bin": other })).toMatchObject({
      ok: false,
      wrongBase: true,
    });
    expect(await expandInstructionOps([op], {})).toMatchObject({ ok: false, wrongBase: true });
  });
});
