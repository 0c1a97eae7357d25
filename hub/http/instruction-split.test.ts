// A first sync of many more files than one instruction holds reaches a replica as a series of bounded instructions, covering everything.
import { afterAll, beforeAll, expect, test } from "vitest";
import { encodeBlockFrames } from "../../shared/blocks/block-frames.ts";
import { MIN_BLOCK_BYTES } from "../../shared/blocks/block-size.ts";
import { contentHash } from "../../shared/blocks/content-hash.ts";
import { sha256Hex } from "../../shared/blocks/hex.ts";
import { verifyInstruction } from "../../shared/instructions/instruction.ts";
import { MAX_ENTRIES_PER_REPORT } from "../../shared/protocol/messages.ts";
import { createTestHub, type TestDevice, type TestHub } from "../../test/support/test-hub-context.ts";

/**
 * Five full instructions and a partial sixth at the hub's real limit (2,000 operations; hub-context.ts): every instruction after the
 * first starts from the previous one's end, the last holds the remainder, and the largest is a full one — so the JWS
 * size bound is checked at the real limit. The split is the same for 100,000 files, only fifty times over (each
 * instruction is planned from the cursor with a bounded query), and this file once took two minutes on CI for that.
 */
const FILES = 10_500;
let hub: TestHub;
let source: TestDevice;
let replica: TestDevice;

beforeAll(async () => {
  hub = await createTestHub();
  await hub.createShare("big");
  source = await hub.enroll(await hub.mintToken([{ name: "big", role: "source" }]), "source");
  replica = await hub.enroll(await hub.mintToken([{ name: "big", role: "replica" }]), "replica");
  const content = new TextEncoder().encode("same small content\n");
  const block = await sha256Hex(content);
  expect(
    (
      await hub.deviceFetch(
        source,
        "POST",
        "/v1/blocks",
        encodeBlockFrames([{ hash: block, bytes: content }]),
      )
    ).status,
  ).toBe(200);
  const hash = await contentHash(content.length, MIN_BLOCK_BYTES, [block]);
  for (let start = 0; start < FILES; start += MAX_ENTRIES_PER_REPORT) {
    const entries = Array.from({ length: Math.min(MAX_ENTRIES_PER_REPORT, FILES - start) }, (_, i) => ({
      path: `d${Math.floor((start + i) / 1000)}/f${start + i}.txt`,
      type: "file",
      size: content.length,
      mode: 0o644,
      mtimeMs: 1_700_000_000_000,
      blockSize: MIN_BLOCK_BYTES,
      blocks: [block],
      hash,
    }));
    const response = await hub.deviceFetch(source, "POST", "/v1/shares/big/reports", { entries });
    expect(await response.json()).toMatchObject({ status: "accepted", accepted: entries.length });
  }
}, 300_000);
afterAll(() => hub.close());

test("a first sync of 10,500 files (five instructions' worth and more) is split into instructions of bounded size that together cover every file", async () => {
  const seen = new Set<string>();
  let cursor = 0;
  let instructions = 0;
  let largestJws = 0;
  while (cursor < FILES) {
    const response = await hub.deviceFetch(replica, "GET", "/v1/instructions?wait=0");
    const { instructions: list } = (await response.json()) as { instructions: string[] };
    expect(list).toHaveLength(1);
    const check = await verifyInstruction(list[0]!, {
      jwks: replica.enrolment.jwks,
      hubId: hub.hubId,
      deviceId: replica.deviceId,
      nowSeconds: Math.floor(hub.clock.now() / 1000),
    });
    if (!check.ok) throw new Error(check.reason);
    const { instruction } = check;
    expect(instruction.fromSeq).toBe(cursor);
    expect(instruction.ops.length).toBeLessThanOrEqual(hub.ctx.limits.maxOpsPerInstruction);
    expect(instruction.toSeq).toBeGreaterThan(cursor);
    for (const op of instruction.ops) seen.add(op.path);
    largestJws = Math.max(largestJws, list[0]!.length);
    instructions++;
    const ack = await hub.deviceFetch(replica, "POST", `/v1/instructions/${instruction.jti}/ack`, {
      reachedSeq: instruction.toSeq,
    });
    expect(ack.status).toBe(200);
    cursor = instruction.toSeq;
  }
  expect(seen.size).toBe(FILES);
  // Still several instructions' worth should the hub's limit grow.
  expect(FILES).toBeGreaterThan(5 * hub.ctx.limits.maxOpsPerInstruction);
  expect(instructions).toBe(Math.ceil(FILES / hub.ctx.limits.maxOpsPerInstruction));
  expect(largestJws).toBeLessThan(2 * 1024 * 1024);
  const after = await hub.deviceFetch(replica, "GET", "/v1/instructions?wait=0");
  expect(await after.json()).toEqual({ instructions: [] });
}, 300_000);
