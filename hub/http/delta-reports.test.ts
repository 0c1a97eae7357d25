// Block lists as deltas over HTTP: a source reports a small edit of a large file against the hub's current version.
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { encodeBlockFrames } from "../../shared/blocks/block-frames.ts";
import { diffBlockLists } from "../../shared/blocks/block-list-delta.ts";
import { contentHash } from "../../shared/blocks/content-hash.ts";
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

async function replicaOps() {
  const response = await hub.deviceFetch(replica, "GET", "/v1/instructions?wait=0");
  const { instructions } = (await response.json()) as { instructions: string[] };
  const check = await verifyInstruction(instructions[0]!, {
    jwks: replica.enrolment.jwks,
    hubId: hub.hubId,
    deviceId: replica.deviceId,
    nowSeconds: Math.floor(hub.clock.now() / 1000),
  });
  if (!check.ok) throw new Error(check.reason);
  return check.instruction.ops;
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
