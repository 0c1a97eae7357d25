// Reports that would leave a tree no disk can hold, or an entry no replica can apply, are refused naming the paths.
import { afterEach, beforeEach, expect, test } from "vitest";
import { MIN_BLOCK_BYTES } from "../../shared/blocks/block-size.ts";
import { contentHash } from "../../shared/blocks/content-hash.ts";
import { expectError } from "../../test/support/security-cases.ts";
import { createTestHub, type TestDevice, type TestHub } from "../../test/support/test-hub-context.ts";

let hub: TestHub;
let source: TestDevice;
beforeEach(async () => {
  hub = await createTestHub();
  await hub.createShare("docs");
  source = await hub.enroll(await hub.mintToken([{ name: "docs", role: "source" }]));
});
afterEach(() => hub.close());

const report = (entries: unknown[]) =>
  hub.deviceFetch(source, "POST", "/v1/shares/docs/reports", { entries });
const emptyFile = async (path: string) => ({
  path,
  type: "file",
  size: 0,
  mode: 0o644,
  mtimeMs: 1_700_000_000_000,
  blockSize: MIN_BLOCK_BYTES,
  blocks: [],
  hash: await contentHash(0, MIN_BLOCK_BYTES, []),
});
const dir = (path: string) => ({ path, type: "dir", mode: 0o755 });
const deleted = (path: string) => ({ path, type: "deleted" });

async function accepted(entries: unknown[]) {
  const response = await report(entries);
  const body = await response.text();
  expect({ status: response.status, body }).toMatchObject({ status: 200 });
  expect(JSON.parse(body)).toMatchObject({ status: "accepted" });
}

test("refuses f/g below a committed file f, naming both, and commits nothing", async () => {
  await hub.commitFile(source, "docs", "f", "a file");
  const before = await hub.digest();
  const response = await report([await emptyFile("f/g")]);
  await expectError(
    response,
    422,
    "invalid",
    /^report for share "docs" would leave "f" \(a file\) with "f\/g" below it; .*report one of them deleted$/,
  );
  expect(await hub.digest()).toBe(before);
});

test("refuses a file f and a file f/g in one report", async () => {
  const response = await report([await emptyFile("f"), await emptyFile("f/g")]);
  await expectError(response, 422, "invalid", /would leave "f" \(a file\) with "f\/g" below it/);
});

test("refuses an entry deep below a committed file", async () => {
  await hub.commitFile(source, "docs", "a/f", "a file");
  const response = await report([dir("a/f/x"), await emptyFile("a/f/x/y")]);
  await expectError(response, 422, "invalid", /would leave "a\/f" \(a file\) with "a\/f\/x" below it/);
});

test("refuses turning a folder into a file while its children stay", async () => {
  await accepted([dir("d"), await emptyFile("d/x"), await emptyFile("d/y")]);
  const response = await report([await emptyFile("d"), deleted("d/x")]);
  await expectError(response, 422, "invalid", /would leave "d" \(a file\) with "d\/y" below it/);
});

test("accepts turning a folder into a file when the same report deletes its children", async () => {
  await accepted([dir("d"), await emptyFile("d/x"), await emptyFile("d/y")]);
  await accepted([await emptyFile("d"), deleted("d/x"), deleted("d/y")]);
});

test("accepts turning a file into a folder with children in one report", async () => {
  await hub.commitFile(source, "docs", "f", "a file");
  await accepted([dir("f"), await emptyFile("f/g")]);
});

test("accepts a deleted entry below a file (tombstones hold no space)", async () => {
  await hub.commitFile(source, "docs", "f", "a file");
  await accepted([deleted("f/g")]);
});

test("refuses an entry below a symlink", async () => {
  await accepted([{ path: "link", type: "symlink", target: "/etc" }]);
  const response = await report([await emptyFile("link/passwd")]);
  await expectError(
    response,
    422,
    "invalid",
    /would leave "link" \(a symlink\) with "link\/passwd" below it/,
  );
});

test.each([
  ["without a target", { path: "link", type: "symlink" }],
  ["with an empty target", { path: "link", type: "symlink", target: "" }],
])("refuses a symlink %s with 422", async (_, entry) => {
  const response = await report([entry]);
  await expectError(response, 422, "invalid", /^entry "link": a symlink needs a non-empty target/);
});

test("refuses a path whose segment is reserved for fleetsync's temp files", async () => {
  const response = await report([await emptyFile("etc/.fleetsync.9f2c1e.tmp")]);
  await expectError(
    response,
    422,
    "invalid",
    /entries\.0\.path": path segment "\.fleetsync\.9f2c1e\.tmp" is reserved for fleetsync's own files/,
  );
});

test("refuses a file whose hash is not the content hash of its size and blocks (no replica could apply it)", async () => {
  const entry = { ...(await emptyFile("bad.txt")), hash: "0".repeat(64) };
  const before = await hub.digest();
  const response = await report([entry]);
  await expectError(
    response,
    422,
    "invalid",
    /^entry "bad.txt": hash "0{64}" is not the content hash of its size and blocks \([0-9a-f]{64}\)/,
  );
  expect(await hub.digest()).toBe(before);
});
