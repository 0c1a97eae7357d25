// A holder's answer to re-upload requests: only blocks its current files still have, re-hashed, are uploaded.
import { createHash, randomBytes } from "node:crypto";
import { describe, expect, test } from "vitest";
import { decodeBlockFrames } from "../../shared/blocks/block-frames.ts";
import type { HubClient } from "../hub/hub-client.ts";
import type { ShareKind } from "../kinds/share-kind.ts";
import type { OpenedShareState } from "../state/share-state.ts";
import { reuploadBlocks } from "./reupload-blocks.ts";

const BLOCK = 128 * 1024;
const hash = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

/** A holder with one file of two blocks on "disk" (`files`), indexed as it was hashed, and an upload recorder. */
function holder(files: Map<string, Uint8Array>, indexed: Uint8Array) {
  const blocks = [hash(indexed.subarray(0, BLOCK)), hash(indexed.subarray(BLOCK))];
  const uploads: { hash: string; bytes: Buffer }[] = [];
  const client = {
    async uploadBlocks(body: Uint8Array) {
      const stream = new Blob([body as Uint8Array<ArrayBuffer>]).stream();
      for await (const frame of decodeBlockFrames(stream))
        uploads.push({ hash: frame.hash, bytes: Buffer.from(frame.bytes) });
      return { stored: 0, bytes: 0 };
    },
  } as unknown as HubClient;
  const kind = {
    async readBlock({ path, offset, length }: { path: string; offset: number; length: number }) {
      const file = files.get(path);
      if (!file) throw new Error(`ENOENT: ${path}`);
      return file.subarray(offset, offset + length);
    },
  } as unknown as ShareKind;
  const index = {
    "film.bin": {
      type: "file" as const,
      size: indexed.length,
      mtimeMs: 1,
      ino: 1,
      mode: 0o644,
      blockSize: BLOCK,
      blocks,
      hash: "h",
    },
  };
  const opened = { state: { index }, isNew: false } as unknown as OpenedShareState;
  return { session: { client, kind, open: async () => opened }, blocks, uploads };
}

describe("reuploadBlocks", () => {
  test("reads each wanted block from the file its index names and uploads it byte for byte", async () => {
    const content = randomBytes(BLOCK + 1000);
    const { session, blocks, uploads } = holder(new Map([["film.bin", content]]), content);

    const sent = await reuploadBlocks(session, [{ hash: blocks[1]!, path: "film.bin" }]);

    expect(sent).toEqual({ blocks: 1, bytes: 1000, skipped: 0 });
    expect(uploads).toEqual([{ hash: blocks[1], bytes: Buffer.from(content.subarray(BLOCK)) }]);
  });

  test("never uploads bytes that no longer hash to the block (the file changed since it was indexed)", async () => {
    const indexed = randomBytes(BLOCK + 1000);
    const changed = Buffer.from(indexed);
    changed[5] = changed[5]! ^ 0xff;
    const { session, blocks, uploads } = holder(new Map([["film.bin", changed]]), indexed);

    const sent = await reuploadBlocks(session, [
      { hash: blocks[0]!, path: "film.bin" },
      { hash: blocks[1]!, path: "film.bin" },
    ]);

    expect(sent).toEqual({ blocks: 1, bytes: 1000, skipped: 1 });
    expect(uploads.map((u) => u.hash)).toEqual([blocks[1]]);
  });

  test("skips blocks its index does not have at that path, and files that are gone", async () => {
    const content = randomBytes(BLOCK + 1000);
    const { session, blocks, uploads } = holder(new Map(), content);

    const sent = await reuploadBlocks(session, [
      { hash: blocks[0]!, path: "film.bin" },
      { hash: "a".repeat(64), path: "film.bin" },
      { hash: blocks[1]!, path: "elsewhere.bin" },
    ]);

    expect(sent).toEqual({ blocks: 0, bytes: 0, skipped: 3 });
    expect(uploads).toEqual([]);
  });
});
