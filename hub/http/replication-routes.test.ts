// The replication protocol over HTTP: report, upload missing blocks, commit, hand out signed instructions, ack.
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { decodeBlockFrames, encodeBlockFrames } from "../../shared/blocks/block-frames.ts";
import { MIN_BLOCK_BYTES } from "../../shared/blocks/block-size.ts";
import { contentHash } from "../../shared/blocks/content-hash.ts";
import { sha256Hex } from "../../shared/blocks/hex.ts";
import { verifyInstruction } from "../../shared/instructions/instruction.ts";
import type { Entry } from "../../shared/protocol/entry.ts";
import { expectError } from "../../test/support/security-cases.ts";
import { createTestHub, type TestDevice, type TestHub } from "../../test/support/test-hub-context.ts";

const CONTENT = new TextEncoder().encode("nameserver 192.168.1.2\n");

let hub: TestHub;
let source: TestDevice;
let replica: TestDevice;
let blockHash: string;
let entry: Entry;

beforeEach(async () => {
  hub = await createTestHub();
  await hub.createShare("docs");
  source = await hub.enroll(await hub.mintToken([{ name: "docs", role: "source" }]), "source");
  replica = await hub.enroll(await hub.mintToken([{ name: "docs", role: "replica" }]), "replica");
  blockHash = await sha256Hex(CONTENT);
  entry = {
    path: "etc/resolv.conf",
    type: "file",
    size: CONTENT.length,
    mode: 0o644,
    mtimeMs: 1_700_000_000_000,
    blockSize: MIN_BLOCK_BYTES,
    blocks: [blockHash],
    hash: await contentHash(CONTENT.length, MIN_BLOCK_BYTES, [blockHash]),
  };
});
afterEach(() => hub.close());

const report = (device: TestDevice, entries: unknown[], share = "docs") =>
  hub.deviceFetch(device, "POST", `/v1/shares/${share}/reports`, { entries });
const upload = (device: TestDevice, frames: { hash: string; bytes: Uint8Array }[]) =>
  hub.deviceFetch(device, "POST", "/v1/blocks", encodeBlockFrames(frames));

async function download(device: TestDevice, hashes: string[]) {
  const response = await hub.deviceFetch(device, "GET", `/v1/blocks?hashes=${hashes.join(",")}`);
  expect(response.status).toBe(200);
  const frames: { hash: string; bytes: Uint8Array }[] = [];
  for await (const frame of decodeBlockFrames(response.body!)) frames.push(frame);
  return frames;
}

async function instructionsFor(device: TestDevice, wait = 0, signal?: AbortSignal) {
  const response = await hub.deviceFetch(device, "GET", `/v1/instructions?wait=${wait}`, undefined, {
    signal,
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { instructions: string[] }).instructions;
}

async function verify(device: TestDevice, jws: string) {
  const check = await verifyInstruction(jws, {
    jwks: device.enrolment.jwks,
    hubId: hub.hubId,
    deviceId: device.deviceId,
    nowSeconds: Math.floor(hub.clock.now() / 1000),
  });
  if (!check.ok) throw new Error(check.reason);
  return check.instruction;
}

async function memberOf(share: string, device: TestDevice) {
  const shown = await hub.adminJson<{
    head: number;
    members: { deviceId: string; cursor: number; lag: number }[];
  }>("GET", `/v1/admin/shares/${share}`);
  return { head: shown.head, member: shown.members.find((m) => m.deviceId === device.deviceId) };
}

/** Source reports the file, uploads its block and reports again: the entry is committed at seq 1. */
async function commitFile() {
  await report(source, [entry]);
  await upload(source, [{ hash: blockHash, bytes: CONTENT }]);
  const response = await report(source, [entry]);
  expect(await response.json()).toEqual({ status: "accepted", accepted: 1, head: 1 });
}

describe("a source's change report", () => {
  test("is answered with the block hashes the hub lacks", async () => {
    const response = await report(source, [entry]);

    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "missing", missing: [blockHash] });
    expect((await memberOf("docs", replica)).head).toBe(0);
  });

  test("is accepted with the new head once the blocks are uploaded", async () => {
    await report(source, [entry]);

    const uploaded = await upload(source, [{ hash: blockHash, bytes: CONTENT }]);
    expect(await uploaded.json()).toEqual({ stored: 1, bytes: CONTENT.length });
    const again = await report(source, [entry]);

    expect(await again.json()).toEqual({ status: "accepted", accepted: 1, head: 1 });
    expect(await download(replica, [blockHash])).toEqual([{ hash: blockHash, bytes: CONTENT }]);
  });

  test("of an unchanged entry commits nothing new", async () => {
    await commitFile();

    const response = await report(source, [entry]);
    expect(await response.json()).toEqual({ status: "accepted", accepted: 0, head: 1 });
  });

  test("is refused with 422 when a file's block list does not cover its size", async () => {
    const response = await report(source, [{ ...entry, size: MIN_BLOCK_BYTES + 1 }]);
    await expectError(
      response,
      422,
      "invalid",
      /entry "etc\/resolv.conf": 1 blocks do not cover 131073 bytes/,
    );
  });

  test("of content-defined chunks is committed with their lengths and handed to a replica with them", async () => {
    const first = CONTENT.subarray(0, 10);
    const rest = CONTENT.subarray(10);
    const blocks = [await sha256Hex(first), await sha256Hex(rest)];
    const blockLengths = [first.length, rest.length];
    const chunked: Entry = {
      ...entry,
      path: "big.bin",
      blockSize: 4 * MIN_BLOCK_BYTES,
      blocks,
      blockLengths,
      hash: await contentHash(CONTENT.length, 4 * MIN_BLOCK_BYTES, blocks, blockLengths),
    };
    await report(source, [chunked]);
    await upload(source, [
      { hash: blocks[0]!, bytes: first },
      { hash: blocks[1]!, bytes: rest },
    ]);
    expect(await (await report(source, [chunked])).json()).toEqual({
      status: "accepted",
      accepted: 1,
      head: 1,
    });

    const [jws] = await instructionsFor(replica);
    const instruction = await verify(replica, jws!);
    expect(instruction.ops).toEqual([expect.objectContaining({ path: "big.bin", blocks, blockLengths })]);
  });

  test("keeps an old fixed-block entry without lengths as it was (readers place its blocks by blockSize)", async () => {
    await commitFile();
    const [jws] = await instructionsFor(replica);
    const [op] = (await verify(replica, jws!)).ops;
    expect(op).not.toHaveProperty("blockLengths");
    expect(op).toMatchObject({ blockSize: MIN_BLOCK_BYTES, blocks: [blockHash] });
  });

  test("is refused with 422 when a chunked file's lengths do not add up to its size, naming both", async () => {
    const chunked = { ...entry, blockLengths: [CONTENT.length + 1] };
    await expectError(
      await report(source, [chunked]),
      422,
      "invalid",
      /entry "etc\/resolv.conf": block lengths add up to 24 bytes, not the size 23/,
    );
  });

  test("is refused with 422 when a chunked file's hash does not commit to its lengths", async () => {
    const chunked = { ...entry, blockLengths: [CONTENT.length] };
    await expectError(
      await report(source, [chunked]),
      422,
      "invalid",
      /is not the content hash of its size and blocks/,
    );
  });

  test("from a replica is refused with 403", async () => {
    const response = await report(replica, [entry]);
    await expectError(response, 403, "forbidden", /is a replica of "docs" and may not report changes/);
  });

  test("for a share the device is not a member of is refused with 403", async () => {
    await hub.createShare("media");
    const response = await report(source, [entry], "media");
    await expectError(
      response,
      403,
      "forbidden",
      new RegExp(`device ${source.deviceId} is not a member of share "media"`),
    );
  });

  test("for a share that does not exist is refused with 403 like any foreign share", async () => {
    const response = await report(source, [entry], "nope");
    await expectError(response, 403, "forbidden", /is not a member of share "nope"/);
  });
});

describe("block uploads", () => {
  test("refuse with 422 a block whose bytes do not match its hash, and store nothing", async () => {
    const claimed = await sha256Hex(new TextEncoder().encode("what the hash says"));
    const before = await hub.digest();

    const response = await upload(source, [
      { hash: claimed, bytes: new TextEncoder().encode("something else") },
    ]);

    await expectError(
      response,
      422,
      "invalid",
      new RegExp(`block ${claimed} does not match its content .*it was not stored`),
    );
    expect(await hub.digest()).toBe(before);
    const stored = await hub.client.execute({
      sql: "select count(*) as n from blocks where hash = ?",
      args: [claimed],
    });
    expect(Number(stored.rows[0]?.n)).toBe(0);
  });

  test("refuse with 400 a batch that ends inside a frame", async () => {
    const whole = encodeBlockFrames([{ hash: blockHash, bytes: CONTENT }]);
    const response = await hub.deviceFetch(source, "POST", "/v1/blocks", whole.slice(0, whole.length - 3));
    await expectError(response, 400, "bad_request", /truncated/);
  });

  test("leave out of a download the blocks of the share the hub does not have (a normal, retryable case)", async () => {
    await commitFile();
    const other = await hub.commitFile(source, "docs", "other.txt", "kept only by the source for now");
    await hub.client.execute({ sql: "delete from blocks where hash = ?", args: [other.blockHash] });
    expect(await download(replica, [other.blockHash, blockHash, other.blockHash])).toEqual([
      { hash: blockHash, bytes: CONTENT },
    ]);
  });
});

describe("a replica's instructions", () => {
  test("are one JWS the hub's pinned keys verify, bringing it from its cursor to the head", async () => {
    await commitFile();

    const [jws, ...rest] = await instructionsFor(replica);

    expect(rest).toEqual([]);
    const instruction = await verify(replica, jws!);
    expect(instruction).toMatchObject({ share: "docs", sub: replica.deviceId, fromSeq: 0, toSeq: 1 });
    expect(instruction.ops).toEqual([{ ...entry, seq: 1 }]);
  });

  test("are empty when the replica is up to date", async () => {
    expect(await instructionsFor(replica)).toEqual([]);
  });

  test("are not issued to a source", async () => {
    await commitFile();
    expect(await instructionsFor(source)).toEqual([]);
  });

  test("do not verify for another device", async () => {
    await commitFile();
    const other = await hub.enroll(await hub.mintToken([{ name: "docs", role: "replica" }]));
    const [jws] = await instructionsFor(replica);

    await expect(verify(other, jws!)).rejects.toThrow(/claim "sub"/);
  });

  test("are handed out again unchanged until acknowledged", async () => {
    await commitFile();
    const [first] = await instructionsFor(replica);
    const [second] = await instructionsFor(replica);
    expect(second).toBe(first);
  });

  test("once acknowledged move the member's cursor and clear its lag", async () => {
    await commitFile();
    expect((await memberOf("docs", replica)).member).toMatchObject({ cursor: 0, lag: 1 });
    const instruction = await verify(replica, (await instructionsFor(replica))[0]!);

    const ack = await hub.deviceFetch(replica, "POST", `/v1/instructions/${instruction.jti}/ack`, {
      reachedSeq: 1,
      results: [{ seq: 1, path: entry.path, action: "write", ok: true, bytes: CONTENT.length }],
    });

    expect(await ack.json()).toEqual({ cursor: 1, recorded: true });
    expect((await memberOf("docs", replica)).member).toMatchObject({ cursor: 1, lag: 0 });
    expect(await instructionsFor(replica)).toEqual([]);
  });

  test("cannot be acknowledged beyond their range (422)", async () => {
    await commitFile();
    const instruction = await verify(replica, (await instructionsFor(replica))[0]!);

    const ack = await hub.deviceFetch(replica, "POST", `/v1/instructions/${instruction.jti}/ack`, {
      reachedSeq: 5,
    });

    await expectError(ack, 422, "invalid", /"reachedSeq": 5 is outside the instruction's range 0..1/);
    expect((await memberOf("docs", replica)).member).toMatchObject({ cursor: 0, lag: 1 });
  });

  test("cannot be acknowledged by another device (404)", async () => {
    await commitFile();
    const other = await hub.enroll(await hub.mintToken([{ name: "docs", role: "replica" }]));
    const instruction = await verify(replica, (await instructionsFor(replica))[0]!);

    const ack = await hub.deviceFetch(other, "POST", `/v1/instructions/${instruction.jti}/ack`, {
      reachedSeq: 1,
    });

    await expectError(ack, 404, "not_found", /was not issued to device/);
    expect((await memberOf("docs", replica)).member).toMatchObject({ cursor: 0 });
  });

  test("are superseded when the device is revoked", async () => {
    await commitFile();
    const instruction = await verify(replica, (await instructionsFor(replica))[0]!);
    await hub.adminJson("POST", `/v1/admin/devices/${replica.deviceId}/revoke`);

    const ack = await hub.deviceFetch(replica, "POST", `/v1/instructions/${instruction.jti}/ack`, {
      reachedSeq: 1,
    });
    await expectError(ack, 401, "unauthenticated", /was revoked/);
  });
});

describe("a long-poll", () => {
  test("returns with the instruction as soon as a report is committed meanwhile", {
    timeout: 10_000,
  }, async () => {
    await report(source, [entry]);
    await upload(source, [{ hash: blockHash, bytes: CONTENT }]);
    // A 30 s wait: if the commit did not wake the poll, the 10 s test timeout fails it.
    const polling = instructionsFor(replica, 30);
    await waitUntil(() => hub.pendingWaits() === 1);

    await report(source, [entry]);

    const instructions = await polling;
    expect(instructions).toHaveLength(1);
    expect(await verify(replica, instructions[0]!)).toMatchObject({ toSeq: 1 });
  });

  test("of a device revoked while it waits hands it nothing new", { timeout: 10_000 }, async () => {
    await report(source, [entry]);
    await upload(source, [{ hash: blockHash, bytes: CONTENT }]);
    const polling = hub.deviceFetch(replica, "GET", "/v1/instructions?wait=30");
    await waitUntil(() => hub.pendingWaits() === 1);
    await hub.adminJson("POST", `/v1/admin/devices/${replica.deviceId}/revoke`);

    await report(source, [entry]);

    await expectError(await polling, 401, "unauthenticated", /was revoked/);
  });

  test("returns empty once its wait has passed with nothing new", { timeout: 10_000 }, async () => {
    const polling = instructionsFor(replica, 1);
    await waitUntil(() => hub.pendingWaits() === 1);
    hub.clock.advance(1000);

    expect(await polling).toEqual([]);
  });

  test("stops waiting when the client goes away", { timeout: 10_000 }, async () => {
    const controller = new AbortController();
    const polling = instructionsFor(replica, 30, controller.signal).catch(() => "aborted");
    await waitUntil(() => hub.pendingWaits() === 1);

    controller.abort();
    await polling;

    await waitUntil(() => hub.pendingWaits() === 0);
  });
});

describe("the replica's cursor", () => {
  test("can be set back by the replica, and never past the head", async () => {
    await commitFile();

    const response = await hub.deviceFetch(replica, "PUT", "/v1/shares/docs/cursor", { cursor: 99 });

    expect(await response.json()).toEqual({ cursor: 1, head: 1 });
    expect((await memberOf("docs", replica)).member).toMatchObject({ cursor: 1, lag: 0 });
  });

  test("cannot be set by a source (403)", async () => {
    const response = await hub.deviceFetch(source, "PUT", "/v1/shares/docs/cursor", { cursor: 0 });
    await expectError(response, 403, "forbidden", /sources have no cursor/);
  });
});

describe("garbage collection", () => {
  test("with graceSeconds=0 deletes an unreferenced block and keeps referenced ones", async () => {
    await commitFile();
    const stray = new TextEncoder().encode("uploaded, never referenced");
    const strayHash = await sha256Hex(stray);
    await upload(source, [{ hash: strayHash, bytes: stray }]);
    hub.clock.advance(1);

    const response = await hub.admin("POST", "/v1/admin/gc?graceSeconds=0");

    expect(await response.json()).toEqual({ deleted: 1 });
    expect(await download(replica, [blockHash])).toEqual([{ hash: blockHash, bytes: CONTENT }]);
    const left = await hub.client.execute("select hash from blocks order by hash");
    expect(left.rows.map((r) => r.hash)).toEqual([blockHash]);
  });

  test("keeps unreferenced blocks younger than the grace period (uploads in flight)", async () => {
    const stray = new TextEncoder().encode("an upload whose report is still to come");
    const strayHash = await sha256Hex(stray);
    await upload(source, [{ hash: strayHash, bytes: stray }]);
    hub.clock.advance(59_000);

    const response = await hub.admin("POST", "/v1/admin/gc?graceSeconds=60");

    expect(await response.json()).toEqual({ deleted: 0 });
    const left = await hub.client.execute("select hash from blocks");
    expect(left.rows.map((r) => r.hash)).toEqual([strayHash]);
  });

  test("keeps a block the share stopped referencing for the grace period, so instructions in flight still apply", async () => {
    await commitFile();
    const [jws] = await instructionsFor(replica);
    await report(source, [{ path: entry.path, type: "deleted" }]);
    hub.clock.advance(59_000);

    expect(await (await hub.admin("POST", "/v1/admin/gc?graceSeconds=60")).json()).toEqual({ deleted: 0 });
    expect((await verify(replica, jws!)).ops[0]).toMatchObject({ blocks: [blockHash] });
    expect(await download(replica, [blockHash])).toEqual([{ hash: blockHash, bytes: CONTENT }]);

    hub.clock.advance(2_000);
    expect(await (await hub.admin("POST", "/v1/admin/gc?graceSeconds=60")).json()).toEqual({ deleted: 1 });
    const refused = await hub.deviceFetch(replica, "GET", `/v1/blocks?hashes=${blockHash}`);
    await expectError(refused, 403, "forbidden", new RegExp(`may not read block ${blockHash}`));
  });

  test("deletes a block once no entry references it any more", async () => {
    await commitFile();
    await report(source, [{ path: entry.path, type: "deleted" }]);
    hub.clock.advance(1);

    const response = await hub.admin("POST", "/v1/admin/gc?graceSeconds=0");

    expect(await response.json()).toEqual({ deleted: 1 });
  });

  test("refuses a negative grace period with 422", async () => {
    const response = await hub.admin("POST", "/v1/admin/gc?graceSeconds=-1");
    await expectError(response, 422, "invalid", /query field "graceSeconds"/);
  });
});

async function waitUntil(condition: () => boolean, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("timed out waiting for a condition");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
