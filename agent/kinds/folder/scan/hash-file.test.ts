import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { blockCount, blockSizeFor } from "../../../../shared/blocks/block-size.ts";
import { blockLayoutProblem, blockSpans } from "../../../../shared/blocks/block-spans.ts";
import { type CdcParams, chunkingFor } from "../../../../shared/blocks/chunking-for.ts";
import { contentHash } from "../../../../shared/blocks/content-hash.ts";
import { cutChunks } from "../../../../shared/blocks/find-cut-point.ts";
import { sha256 } from "../../../blocks/hash-blocks.ts";
import { createNodeShareFs } from "../fs/node-share-fs.ts";
import { hashFile as hashShareFile } from "./hash-file.ts";

const hashFile = (path: string, size: number) =>
  hashShareFile(createNodeShareFs(dir), path.slice(dir.length + 1), size);

const KiB = 1024;
const MiB = 1024 * KiB;
const ABC = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
const EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "fleetsync-hash-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function fileWith(name: string, bytes: Uint8Array): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, bytes);
  return path;
}

const nodeSha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

describe("sha256", () => {
  test("matches the FIPS 180-2 vectors", () => {
    expect(sha256(new Uint8Array())).toBe(EMPTY);
    expect(sha256(new TextEncoder().encode("abc"))).toBe(ABC);
  });
});

describe("hashFile", () => {
  test("gives an empty file no blocks", async () => {
    const hashes = await hashFile(await fileWith("empty", new Uint8Array()), 0);
    expect(hashes).toEqual({
      size: 0,
      blockSize: 128 * KiB,
      blocks: [],
      hash: await contentHash(0, 128 * KiB, []),
    });
  });

  test('hashes "abc" to its known SHA-256 as one block', async () => {
    const hashes = await hashFile(await fileWith("abc", new TextEncoder().encode("abc")), 3);
    expect(hashes.blocks).toEqual([ABC]);
    expect(hashes.size).toBe(3);
    expect(hashes.hash).toBe(await contentHash(3, 128 * KiB, [ABC]));
  });

  test("hashes a file of exactly 128 KiB as one block", async () => {
    const bytes = randomBytes(128 * KiB);
    const hashes = await hashFile(await fileWith("one-block", bytes), bytes.length);
    expect(hashes.blocks).toEqual([nodeSha256(bytes)]);
  });

  test("cuts 128 KiB + 1 byte into content-defined chunks, each the SHA-256 of its slice", async () => {
    const bytes = randomBytes(128 * KiB + 1);
    const hashes = await hashFile(await fileWith("two-blocks", bytes), bytes.length);
    const lengths = cutChunks(bytes, chunkingFor(bytes.length) as CdcParams);
    expect(hashes.blockLengths).toEqual(lengths);
    expect(hashes.blocks).toEqual(
      blockSpans(hashes).map((s) => nodeSha256(bytes.subarray(s.offset, s.offset + s.length))),
    );
    expect(hashes.size).toBe(128 * KiB + 1);
    expect(hashes.blockSize).toBe((chunkingFor(bytes.length) as CdcParams).maxBytes);
    expect(hashes.hash).toBe(await contentHash(bytes.length, hashes.blockSize, hashes.blocks, lengths));
  });

  test("cuts a file read in pieces exactly as the same bytes held in memory (many refills of its buffer)", async () => {
    const bytes = randomBytes(9 * MiB + 77);
    const hashes = await hashFile(await fileWith("many-chunks", bytes), bytes.length);
    const lengths = cutChunks(bytes, chunkingFor(bytes.length) as CdcParams);
    expect(lengths.length).toBeGreaterThan(50);
    expect(hashes.blockLengths).toEqual(lengths);
    expect(hashes.blocks).toHaveLength(lengths.length);
    expect(blockLayoutProblem(hashes)).toBeUndefined();
    expect(hashes.blocks.at(-1)).toBe(nodeSha256(bytes.subarray(bytes.length - lengths.at(-1)!)));
  });

  test("keeps a file of exactly 128 KiB or less as fixed blocks, with no lengths", async () => {
    const bytes = randomBytes(100 * KiB);
    const hashes = await hashFile(await fileWith("small", bytes), bytes.length);
    expect(hashes.blockLengths).toBeUndefined();
    expect(hashes.blocks).toEqual([nodeSha256(bytes)]);
  });

  test("would split a 300 MiB file into 1200 blocks of 256 KiB", () => {
    // Logic check only: the block size hashFile uses comes from blockSizeFor, so no huge file is written.
    expect(blockSizeFor(300 * MiB)).toBe(256 * KiB);
    expect(blockCount(300 * MiB, blockSizeFor(300 * MiB))).toBe(1200);
  });

  test("reports the size it really read when the file shrank after it was stat-ed", async () => {
    const bytes = randomBytes(1000);
    const hashes = await hashFile(await fileWith("shrank", bytes), 5000);
    expect(hashes.size).toBe(1000);
    expect(hashes.blocks).toEqual([nodeSha256(bytes)]);
  });

  test("reports the size it really read when the file grew after it was stat-ed", async () => {
    const bytes = randomBytes(1000);
    const hashes = await hashFile(await fileWith("grew", bytes), 10);
    expect(hashes.size).toBe(1000);
  });

  // Regression: the read buffer was min(blockSize, size) bytes, so a file that grew after it was stat-ed was
  // hashed in pieces of the stat-time size and its block list did not match its own blockSize.
  test("keeps its block list consistent with its block size when the file grew after it was stat-ed", async () => {
    const bytes = randomBytes(4096);
    const hashes = await hashFile(await fileWith("grew-from-empty", bytes), 0);
    expect(hashes.blocks).toHaveLength(blockCount(hashes.size, hashes.blockSize));
  });

  test("keeps its chunk lengths adding up to what it read when a chunked file shrank after it was stat-ed", async () => {
    const bytes = randomBytes(200 * KiB);
    const hashes = await hashFile(await fileWith("chunked-shrank", bytes), 5 * MiB);
    expect(hashes.size).toBe(200 * KiB);
    expect(blockLayoutProblem(hashes)).toBeUndefined();
  });

  test("fails with ENOENT for a missing file", async () => {
    await expect(hashFile(join(dir, "missing"), 1)).rejects.toMatchObject({ errno: "ENOENT" });
  });
});
