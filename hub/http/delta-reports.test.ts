// Block lists as deltas over HTTP: a small edit of a large file reported, and handed to replicas, as a delta.
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { encodeBlockFrames } from "../../shared/blocks/block-frames.ts";
import { diffBlockLists } from "../../shared/blocks/block-list-delta.ts";
import { contentHash } from "../../shared/blocks/content-hash.ts";
import { expandBlockList } from "../../shared/blocks/expand-block-list.ts";
import { sha256Hex } from "../../shared/blocks/hex.ts";
import { verifyInstruction } from "../../shared/instructions/instruction.ts";
import type { Entry, ReportedEntry } from "../../shared/protocol/entry.ts";
import { expectError } from "../../test/support/security-cases.ts";
import { createTestHub, type TestDevice, type TestHub } from "../../test/support/test-hub-context.ts";

const BLOCK_SIZE = 1024 * 1024;

let hub: TestHub;
let source: TestDevice;
let replica: TestDevice;

beforeEach(async () => {
  hub = await createTestHub();
  await hub.createShare("media");
  source = await hub.enroll(await hub.mintToken([{ name: "media", role: "source" }]), "source");
  replica = await hub.enroll(await hub.mintToken([{ name: "media", role: "replica" }]), "replica");
});
afterEach(() => hub.close());

type Version = { entry: Entry; frames: { hash: string; bytes: Uint8Array }[] };

/** A chunked file whose chunk i holds the text `chunk <label i>`. */
async function version(labels: string[], mtimeMs = 1_700_000_000_000): Promise<Version> {
  const frames = await Promise.all(
    labels.map(async (label) => {
      const bytes = new TextEncoder().encode(`chunk ${label}`);
      return { hash: await sha256Hex(bytes), bytes };
    }),
  );
  const blocks = frames.map((f) => f.hash);
  const blockLengths = frames.map((f) => f.bytes.length);
  const size = blockLengths.reduce((a, b) => a + b, 0);
  const entry: Entry = {
    path: "big.bin",
    type: "file",
    size,
    mode: 0o644,
    mtimeMs,
    blockSize: BLOCK_SIZE,
    blocks,
    blockLengths,
    hash: await contentHash(size, BLOCK_SIZE, blocks, blockLengths),
  };
  return { entry, frames };
}

const labels = (n: number) => Array.from({ length: n }, (_, i) => String(i));

/** `next` as a delta against `base`: an empty list and blocksFrom. */
function asDelta(next: Entry, base: Entry): ReportedEntry {
  const { blockLengths: _, ...rest } = next;
  return { ...rest, blocks: [], blocksFrom: { base: base.hash, ops: diffBlockLists(base, next)! } };
}

const report = (entries: unknown[]) =>
  hub.deviceFetch(source, "POST", "/v1/shares/media/reports", { entries });
const upload = (frames: Version["frames"]) =>
  hub.deviceFetch(source, "POST", "/v1/blocks", encodeBlockFrames(frames));

async function commit(v: Version, sent: unknown = v.entry) {
  await upload(v.frames);
  return (await report([sent])).json();
}

async function replicaInstruction(device = replica, query = "") {
  const response = await hub.deviceFetch(device, "GET", `/v1/instructions?wait=0${query}`);
  const { instructions } = (await response.json()) as { instructions: string[] };
  const check = await verifyInstruction(instructions[0]!, {
    jwks: device.enrolment.jwks,
    hubId: hub.hubId,
    deviceId: device.deviceId,
    nowSeconds: Math.floor(hub.clock.now() / 1000),
  });
  if (!check.ok) throw new Error(check.reason);
  return { ...check.instruction, bytes: instructions[0]!.length };
}
const replicaOps = async () => (await replicaInstruction()).ops;

/** v1 of 200 chunks committed and applied by the replica, then v2 (one chunk replaced) committed as a delta. */
async function replicaBehindByOneEdit() {
  const first = await version(labels(200));
  await commit(first);
  const applied = await replicaInstruction(replica, "&deltas=1");
  await hub.deviceFetch(replica, "POST", `/v1/instructions/${applied.jti}/ack`, { reachedSeq: 1 });
  const next = await version([...labels(100), "edit", ...labels(200).slice(101)], 1_700_000_100_000);
  await upload([next.frames[100]!]);
  expect(await (await report([asDelta(next.entry, first.entry)])).json()).toMatchObject({ head: 2 });
  return { first, next };
}

describe("a report whose block list is a delta against the hub's current version", () => {
  test("asks only for the new blocks and commits the whole list it expands to", async () => {
    const first = await version(labels(200));
    expect(await commit(first)).toMatchObject({ status: "accepted", head: 1 });
    const next = await version(["new", ...labels(200).slice(1)], 1_700_000_100_000);
    const delta = asDelta(next.entry, first.entry);

    const missing = await (await report([delta])).json();
    expect(missing).toEqual({ status: "missing", missing: [next.entry.blocks[0]] });
    await upload([next.frames[0]!]);
    expect(await (await report([delta])).json()).toEqual({ status: "accepted", accepted: 1, head: 2 });

    const ops = await replicaOps();
    expect(ops).toEqual([expect.objectContaining({ ...next.entry, seq: 2 })]);
  });

  test("is refused with 409 when its base is not the hub's current version, and nothing is committed", async () => {
    const first = await version(labels(40));
    await commit(first);
    const other = await version(labels(41));
    const next = await version(["x", ...labels(41).slice(1)]);
    await upload(next.frames);

    await expectError(
      await report([asDelta(next.entry, other.entry)]),
      409,
      "conflict",
      /entry "big.bin": blocksFrom names base [0-9a-f]{12}…, but the version held here is [0-9a-f]{12}…; send the whole block list/,
    );
    expect(await (await report([first.entry])).json()).toMatchObject({ accepted: 0, head: 1 });
  });

  test("is refused with 409 for a path the hub has no file at", async () => {
    const first = await version(labels(40));
    await upload(first.frames);
    const base = await version(labels(41));
    await expectError(
      await report([asDelta(first.entry, base.entry)]),
      409,
      "conflict",
      /but the version held here is none/,
    );
  });

  test("is refused with 422 when the list it expands to does not hash to the entry's hash", async () => {
    const first = await version(labels(40));
    await commit(first);
    const next = await version(["y", ...labels(40).slice(1)]);
    const delta = asDelta(next.entry, first.entry);
    const wrong = { ...delta, blocksFrom: { ...delta.blocksFrom!, ops: [[0, 40]] } };
    await expectError(await report([wrong]), 422, "invalid", /hashes to [0-9a-f]{64}, not the entry's hash/);
  });

  test("is refused with 422 when it carries a block list as well", async () => {
    const first = await version(labels(40));
    await commit(first);
    const next = await version(["z", ...labels(40).slice(1)]);
    const both = { ...asDelta(next.entry, first.entry), blocks: next.entry.blocks };
    await expectError(await report([both]), 422, "invalid", /has both a block list and blocksFrom/);
  });
});

describe("an instruction to a receiver that holds the version a file replaced", () => {
  test("carries the file's block list as a signed delta that expands to the committed entry", async () => {
    const { first, next } = await replicaBehindByOneEdit();
    const whole = await replicaInstruction(replica, "&deltas=0");
    await hub.deviceFetch(replica, "PUT", "/v1/shares/media/cursor", { cursor: 1 });

    const instruction = await replicaInstruction(replica, "&deltas=1");
    const [op] = instruction.ops;
    expect(op).toMatchObject({ path: "big.bin", seq: 2, blocks: [], blocksFrom: { base: first.entry.hash } });
    expect(op).not.toHaveProperty("blockLengths");
    expect(await expandBlockList(op!, first.entry)).toEqual({ ok: true, entry: { ...next.entry, seq: 2 } });
    expect(instruction.bytes).toBeLessThan(whole.bytes / 5);
  });

  test("carries the whole list to an agent that did not ask for deltas, and to one whose cursor is before the base", async () => {
    const { next } = await replicaBehindByOneEdit();
    expect(await replicaOps()).toEqual([{ ...next.entry, seq: 2 }]);

    const late = await hub.enroll(await hub.mintToken([{ name: "media", role: "replica" }]), "late");
    const fresh = await replicaInstruction(late, "&deltas=1");
    expect(fresh.ops).toEqual([{ ...next.entry, seq: 2 }]);
  });

  test("is re-planned with whole lists once the receiver sets its cursor and asks without deltas (its fallback)", async () => {
    const { next } = await replicaBehindByOneEdit();
    expect((await replicaInstruction(replica, "&deltas=1")).ops[0]).toHaveProperty("blocksFrom");

    await hub.deviceFetch(replica, "PUT", "/v1/shares/media/cursor", { cursor: 1 });
    const again = await replicaInstruction(replica, "&deltas=0");
    expect(again.fromSeq).toBe(1);
    expect(again.ops).toEqual([{ ...next.entry, seq: 2 }]);
  });
});
