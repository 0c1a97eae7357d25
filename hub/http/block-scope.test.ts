// Blocks are scoped to shares and roles: a device reads only its received shares' blocks, and only senders upload.
import { afterEach, beforeEach, expect, test } from "vitest";
import { decodeBlockFrames, encodeBlockFrames } from "../../shared/blocks/block-frames.ts";
import { sha256Hex } from "../../shared/blocks/hex.ts";
import { expectError } from "../../test/support/security-cases.ts";
import { createTestHub, type TestDevice, type TestHub } from "../../test/support/test-hub-context.ts";

let hub: TestHub;
let homeSource: TestDevice;
let homeReplica: TestDevice;
let workReplica: TestDevice;
beforeEach(async () => {
  hub = await createTestHub();
  await hub.createShare("home");
  await hub.createShare("work");
  homeSource = await hub.enroll(await hub.mintToken([{ name: "home", role: "source" }]));
  homeReplica = await hub.enroll(await hub.mintToken([{ name: "home", role: "replica" }]));
  workReplica = await hub.enroll(await hub.mintToken([{ name: "work", role: "replica" }]));
});
afterEach(() => hub.close());

const fetchBlocks = (device: TestDevice, hashes: string[]) =>
  hub.deviceFetch(device, "GET", `/v1/blocks?hashes=${hashes.join(",")}`);

async function frames(response: Response) {
  expect(response.status).toBe(200);
  const out: string[] = [];
  for await (const frame of decodeBlockFrames(response.body!))
    out.push(new TextDecoder().decode(frame.bytes));
  return out;
}

test("a replica reads the blocks of the share it receives", async () => {
  const { blockHash } = await hub.commitFile(homeSource, "home", "wifi.txt", "the home wifi password");
  expect(await frames(await fetchBlocks(homeReplica, [blockHash]))).toEqual(["the home wifi password"]);
});

test("refuses with 403 a block read across shares, naming the hash, and sends no bytes", async () => {
  const { blockHash } = await hub.commitFile(homeSource, "home", "wifi.txt", "the home wifi password");
  const response = await fetchBlocks(workReplica, [blockHash]);
  await expectError(
    response,
    403,
    "forbidden",
    new RegExp(`^device ${workReplica.deviceId} may not read block ${blockHash}: no share it receives`),
  );
});

test("names the first hash of a batch the device may not read", async () => {
  const mine = await hub.commitFile(homeSource, "home", "a.txt", "readable");
  const unknown = "f".repeat(64);
  const response = await fetchBlocks(homeReplica, [mine.blockHash, unknown, "e".repeat(64)]);
  await expectError(response, 403, "forbidden", new RegExp(`may not read block ${unknown}:`));
});

test("refuses a source block reads: it receives nothing", async () => {
  const { blockHash } = await hub.commitFile(homeSource, "home", "a.txt", "the source's own file");
  await expectError(await fetchBlocks(homeSource, [blockHash]), 403, "forbidden", /may not read block/);
});

test("refuses with 403 a block upload from a device that only receives, and stores nothing", async () => {
  const bytes = new TextEncoder().encode("a replica trying to plant content");
  const hash = await sha256Hex(bytes);
  const before = await hub.digest();
  const response = await hub.deviceFetch(
    workReplica,
    "POST",
    "/v1/blocks",
    encodeBlockFrames([{ hash, bytes }]),
  );
  await expectError(
    response,
    403,
    "forbidden",
    new RegExp(
      `^device ${workReplica.deviceId} is not a source or peer of any share, so it may not upload blocks$`,
    ),
  );
  expect(await hub.digest()).toBe(before);
});

test("lets a device upload that is a replica of one share and a peer of another", async () => {
  const both = await hub.enroll(
    await hub.mintToken([
      { name: "home", role: "replica" },
      { name: "work", role: "peer" },
    ]),
  );
  const { blockHash } = await hub.commitFile(both, "work", "shared.txt", "from a peer");
  expect(await frames(await fetchBlocks(workReplica, [blockHash]))).toEqual(["from a peer"]);
  await expectError(await fetchBlocks(homeReplica, [blockHash]), 403, "forbidden", /may not read block/);
});

test("records which share references which block in the commit itself", async () => {
  const { blockHash } = await hub.commitFile(homeSource, "home", "a.txt", "indexed");
  const rows = await hub.client.execute("select share, hash from share_blocks");
  expect(rows.rows.map((r) => [r.share, r.hash])).toEqual([["home", blockHash]]);
});
