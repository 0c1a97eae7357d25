// Block downloads over HTTP in batches: one store query per window of blocks, every block in request order.
import { afterEach, describe, expect, test } from "vitest";
import { decodeBlockFrames } from "../../shared/blocks/block-frames.ts";
import { createTestHub, type TestHub } from "../../test/support/test-hub-context.ts";

let hub: TestHub | undefined;
afterEach(() => hub?.close());

const FILES = 70;

describe("a block download", () => {
  test("of many blocks reads the block table once per window of blocks, not once per block, and keeps request order", async () => {
    const queries: string[] = [];
    let counting = false;
    hub = await createTestHub({ onQuery: (sql) => counting && queries.push(sql) });
    await hub.createShare("docs");
    const source = await hub.enroll(await hub.mintToken([{ name: "docs", role: "source" }]), "source");
    const replica = await hub.enroll(await hub.mintToken([{ name: "docs", role: "replica" }]), "replica");
    const files: { blockHash: string; bytes: Uint8Array }[] = [];
    for (let i = 0; i < FILES; i++)
      files.push(await hub.commitFile(source, "docs", `f${i}.txt`, `file ${i}`));
    // A block the share references but the hub lost: left out wherever it is asked for.
    const lost = files[40]!;
    await hub.client.execute({ sql: "delete from blocks where hash = ?", args: [lost.blockHash] });
    const asked = [...files.map((f) => f.blockHash).reverse(), files[3]!.blockHash];

    counting = true;
    const response = await hub.deviceFetch(replica, "GET", `/v1/blocks?hashes=${asked.join(",")}`);
    expect(response.status).toBe(200);
    const got: { hash: string; bytes: Uint8Array }[] = [];
    for await (const frame of decodeBlockFrames(response.body!)) got.push(frame);
    counting = false;

    const want = asked
      .filter((h) => h !== lost.blockHash)
      .map((hash) => ({ hash, bytes: files.find((f) => f.blockHash === hash)!.bytes }));
    expect(got.map((f) => f.hash)).toEqual(want.map((f) => f.hash));
    expect(got.map((f) => Buffer.from(f.bytes).toString())).toEqual(
      want.map((f) => Buffer.from(f.bytes).toString()),
    );
    const blockReads = queries.filter((sql) => /from "blocks"/.test(sql));
    // 71 hashes in windows of 32: three reads (one per block would be 71).
    expect(blockReads.length).toBe(3);
  });
});
