// Entries hashed before content-defined chunking (fixed 128 KiB blocks, no lengths): kept while the file is unchanged, re-chunked once it changes.
import { randomBytes } from "node:crypto";
import { lstat, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { MIN_BLOCK_BYTES } from "../../../../shared/blocks/block-size.ts";
import { blockLayoutProblem } from "../../../../shared/blocks/block-spans.ts";
import { contentHash } from "../../../../shared/blocks/content-hash.ts";
import { sha256 } from "../../../blocks/hash-blocks.ts";
import type { AgentLogger } from "../../../log/agent-logger.ts";
import type { IndexEntry } from "../../../state/share-state.ts";
import { createNodeShareFs } from "../fs/node-share-fs.ts";
import { scanShare } from "./scan-share.ts";

const quiet: AgentLogger = { debug() {}, info() {}, warn() {}, error() {}, child: () => quiet };
const nothingIgnored = () => false;

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "fleetsync-migration-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The index entry an agent from before chunking wrote for these bytes. */
async function oldFixedEntry(path: string, bytes: Buffer): Promise<IndexEntry> {
  const st = await lstat(join(dir, path));
  const blocks: string[] = [];
  for (let offset = 0; offset < bytes.length; offset += MIN_BLOCK_BYTES)
    blocks.push(sha256(bytes.subarray(offset, offset + MIN_BLOCK_BYTES)));
  return {
    type: "file",
    size: st.size,
    mtimeMs: Math.trunc(st.mtimeMs),
    ino: st.ino,
    mode: st.mode & 0o7777,
    blockSize: MIN_BLOCK_BYTES,
    blocks,
    hash: await contentHash(bytes.length, MIN_BLOCK_BYTES, blocks),
  };
}

describe("an index written with fixed blocks", () => {
  test("keeps an unchanged file's fixed-block entry as it is: not re-hashed, nothing reported", async () => {
    const bytes = randomBytes(3 * MIN_BLOCK_BYTES + 5);
    await writeFile(join(dir, "big.bin"), bytes);
    const old = await oldFixedEntry("big.bin", bytes);

    const result = await scanShare(createNodeShareFs(dir), { "big.bin": old }, [""], nothingIgnored, quiet);

    expect(result.hashedBytes).toBe(0);
    expect(result.changed.has("big.bin")).toBe(false);
    const kept = result.updates.get("big.bin") ?? old;
    expect(kept.blocks).toEqual(old.blocks);
    expect(kept.blockLengths).toBeUndefined();
  });

  test("re-chunks a file by content once it changes, with lengths that cover it", async () => {
    const bytes = randomBytes(3 * MIN_BLOCK_BYTES + 5);
    await writeFile(join(dir, "big.bin"), bytes);
    const old = await oldFixedEntry("big.bin", bytes);
    const edited = Buffer.concat([randomBytes(4096), bytes]);
    await writeFile(join(dir, "big.bin"), edited);

    const result = await scanShare(createNodeShareFs(dir), { "big.bin": old }, [""], nothingIgnored, quiet);

    expect(result.changed.has("big.bin")).toBe(true);
    const next = result.updates.get("big.bin")!;
    expect(next.blockLengths?.reduce((a, b) => a + b, 0)).toBe(edited.length);
    expect(blockLayoutProblem(next)).toBeUndefined();
    expect(next.hash).toBe(await contentHash(edited.length, next.blockSize, next.blocks, next.blockLengths));
  });
});
