// The relay storage policy over HTTP: blocks dropped once every member acknowledged, re-upload requests, and `full` unchanged.
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { decodeBlockFrames, encodeBlockFrames } from "../../shared/blocks/block-frames.ts";
import { MIN_BLOCK_BYTES } from "../../shared/blocks/block-size.ts";
import { contentHash } from "../../shared/blocks/content-hash.ts";
import { sha256Hex } from "../../shared/blocks/hex.ts";
import { verifyInstruction } from "../../shared/instructions/instruction.ts";
import { REUPLOAD_HEADER } from "../../shared/protocol/wanted-blocks.ts";
import { expectError } from "../../test/support/security-cases.ts";
import { createTestHub, type TestDevice, type TestHub } from "../../test/support/test-hub-context.ts";
import { relayWants } from "../db/schema.ts";
import { WORKER_LIMITS } from "../main.worker.ts";
import { collectGarbage } from "../services/collect-garbage.ts";

let hub: TestHub;
let source: TestDevice;
let first: TestDevice;
let second: TestDevice;

async function setUp(storage: "full" | "relay") {
  await hub.adminJson("POST", "/v1/admin/shares", { name: "media", storage });
  source = await hub.enroll(await hub.mintToken([{ name: "media", role: "source" }]));
  first = await hub.enroll(await hub.mintToken([{ name: "media", role: "replica" }]));
  second = await hub.enroll(await hub.mintToken([{ name: "media", role: "replica" }]));
}

beforeEach(async () => {
  hub = await createTestHub();
});
afterEach(() => hub.close());

async function stored(hash: string) {
  return (await hub.ctx.blockStore.has([hash])).has(hash);
}

/** Polls the device's instruction for "media", applies nothing, and acknowledges it with these results. */
async function acknowledge(device: TestDevice, results: { path: string; ok: boolean }[]) {
  const response = await hub.deviceFetch(device, "GET", "/v1/instructions?wait=0");
  const [jws] = ((await response.json()) as { instructions: string[] }).instructions;
  const check = await verifyInstruction(jws!, {
    jwks: device.enrolment.jwks,
    hubId: hub.hubId,
    deviceId: device.deviceId,
    nowSeconds: Math.floor(hub.clock.now() / 1000),
  });
  if (!check.ok) throw new Error(check.reason);
  const { jti, toSeq } = check.instruction;
  const ack = await hub.deviceFetch(device, "POST", `/v1/instructions/${jti}/ack`, {
    reachedSeq: toSeq,
    results: results.map((r, i) => ({
      seq: i + 1,
      path: r.path,
      action: "write",
      ok: r.ok,
      bytes: 1,
      ...(r.ok ? {} : { error: "disk full" }),
    })),
  });
  expect(ack.status).toBe(200);
}

async function fetchBlocks(device: TestDevice, hashes: string[]) {
  const response = await hub.deviceFetch(device, "GET", `/v1/blocks?hashes=${hashes.join(",")}`);
  expect(response.status).toBe(200);
  const got: string[] = [];
  for await (const frame of decodeBlockFrames(response.body!))
    got.push(new TextDecoder().decode(frame.bytes));
  return { got, reupload: response.headers.get(REUPLOAD_HEADER) };
}

async function wanted(device: TestDevice, wait = 0) {
  const response = await hub.deviceFetch(device, "GET", `/v1/shares/media/wanted-blocks?wait=${wait}`);
  expect(response.status).toBe(200);
  return (await response.json()) as { storage: string; blocks: { hash: string; path: string }[] };
}

describe("share create --storage", () => {
  test("defaults to full and shows the policy in share show and share list", async () => {
    await hub.adminJson("POST", "/v1/admin/shares", { name: "configs" });
    await hub.adminJson("POST", "/v1/admin/shares", { name: "media", storage: "relay" });
    expect(await hub.adminJson("GET", "/v1/admin/shares/configs")).toMatchObject({ storage: "full" });
    expect(await hub.adminJson("GET", "/v1/admin/shares/media")).toMatchObject({ storage: "relay" });
    const { shares } = await hub.adminJson<{ shares: { name: string; storage: string }[] }>(
      "GET",
      "/v1/admin/shares",
    );
    expect(shares.map((s) => [s.name, s.storage])).toEqual([
      ["configs", "full"],
      ["media", "relay"],
    ]);
  });

  test("refuses an unknown storage policy with 422 naming the field and the allowed values, creating nothing", async () => {
    const before = await hub.digest();
    const response = await hub.admin("POST", "/v1/admin/shares", { name: "media", storage: "cloud" });
    await expectError(response, 422, "invalid", /storage.*"full" \| "relay"|storage.*full.*relay/);
    expect(await hub.digest()).toBe(before);
  });
});

describe("a relay share", () => {
  beforeEach(() => setUp("relay"));

  test("keeps a block until every receiving member acknowledged it, then drops it", async () => {
    const { blockHash } = await hub.commitFile(source, "media", "film.mkv", "frames of a film");
    await acknowledge(first, [{ path: "film.mkv", ok: true }]);
    expect(await stored(blockHash)).toBe(true);

    await acknowledge(second, [{ path: "film.mkv", ok: true }]);

    expect(await stored(blockHash)).toBe(false);
  });

  test("keeps a block a member failed to apply until that member says it has no error any more", async () => {
    const { blockHash } = await hub.commitFile(source, "media", "film.mkv", "frames of a film");
    await acknowledge(first, [{ path: "film.mkv", ok: true }]);
    await acknowledge(second, [{ path: "film.mkv", ok: false }]);
    expect(await stored(blockHash)).toBe(true);

    const status = await hub.deviceFetch(second, "PUT", "/v1/shares/media/status", { lastError: null });
    expect(status.status).toBe(200);

    expect(await stored(blockHash)).toBe(false);
  });

  test("keeps a block a member failed to apply when the other members acknowledge after it, and through GC", async () => {
    const { blockHash } = await hub.commitFile(source, "media", "film.mkv", "frames of a film");
    await acknowledge(second, [{ path: "film.mkv", ok: false }]);
    await acknowledge(first, [{ path: "film.mkv", ok: true }]);
    expect(await stored(blockHash)).toBe(true);
    await collectGarbage(hub.ctx);
    expect(await stored(blockHash)).toBe(true);

    const status = await hub.deviceFetch(second, "PUT", "/v1/shares/media/status", { lastError: null });
    expect(status.status).toBe(200);
    expect(await stored(blockHash)).toBe(false);
  });

  test("answers a newcomer's fetch of a dropped block with a re-upload request, not an error", async () => {
    const { blockHash } = await hub.commitFile(source, "media", "film.mkv", "frames of a film");
    await acknowledge(first, [{ path: "film.mkv", ok: true }]);
    await acknowledge(second, [{ path: "film.mkv", ok: true }]);
    const newcomer = await hub.enroll(await hub.mintToken([{ name: "media", role: "replica" }]));

    expect(await fetchBlocks(newcomer, [blockHash])).toEqual({ got: [], reupload: "requested" });
    expect(await wanted(source)).toEqual({
      storage: "relay",
      blocks: [{ hash: blockHash, path: "film.mkv" }],
    });
  });

  test("serves the re-uploaded block to the newcomer and drops it once the newcomer is whole", async () => {
    const { blockHash, bytes } = await hub.commitFile(source, "media", "film.mkv", "frames of a film");
    await acknowledge(first, [{ path: "film.mkv", ok: true }]);
    await acknowledge(second, [{ path: "film.mkv", ok: true }]);
    const newcomer = await hub.enroll(await hub.mintToken([{ name: "media", role: "replica" }]));
    await fetchBlocks(newcomer, [blockHash]);
    // The newcomer's apply failed on the missing block: its ack does not settle anything.
    await acknowledge(newcomer, [{ path: "film.mkv", ok: false }]);
    await collectGarbage(hub.ctx);

    const upload = await hub.deviceFetch(
      source,
      "POST",
      "/v1/blocks",
      encodeBlockFrames([{ hash: blockHash, bytes }]),
    );
    expect(upload.status).toBe(200);
    expect(await wanted(source)).toEqual({ storage: "relay", blocks: [] });
    await collectGarbage(hub.ctx);
    // Held by the newcomer's request even though every cursor is past it.
    expect(await fetchBlocks(newcomer, [blockHash])).toEqual({ got: ["frames of a film"], reupload: null });

    const status = await hub.deviceFetch(newcomer, "PUT", "/v1/shares/media/status", { lastError: null });
    expect(status.status).toBe(200);

    expect(await stored(blockHash)).toBe(false);
  });

  test("names a block still absent even behind more than a thousand requests already re-uploaded", async () => {
    // A film whose block sorts after every request below, so an answer that took the first rows would miss it.
    let content = "";
    for (let i = 0; !content || (await sha256Hex(new TextEncoder().encode(content)))[0]! < "8"; i++) {
      content = `frames of a film, take ${i}`;
    }
    const { blockHash } = await hub.commitFile(source, "media", "film.mkv", content);
    await acknowledge(first, [{ path: "film.mkv", ok: true }]);
    await acknowledge(second, [{ path: "film.mkv", ok: true }]);
    expect(await stored(blockHash)).toBe(false);
    const newcomer = await hub.enroll(await hub.mintToken([{ name: "media", role: "replica" }]));
    // 1,100 earlier requests of the newcomer, all re-uploaded since (stored), all sorting before the film's block.
    const served: { hash: string; bytes: Uint8Array }[] = [];
    for (let i = 0; served.length < 1100; i++) {
      const bytes = new TextEncoder().encode(`an earlier block ${i}`);
      const hash = await sha256Hex(bytes);
      if (hash < blockHash) served.push({ hash, bytes });
    }
    await hub.ctx.blockStore.put(served, hub.clock.now());
    for (let i = 0; i < served.length; i += 50) {
      await hub.ctx.db.insert(relayWants).values(
        served.slice(i, i + 50).map(({ hash }) => ({
          share: "media",
          hash,
          deviceId: newcomer.deviceId,
          askedAt: hub.clock.now(),
        })),
      );
    }
    expect(await fetchBlocks(newcomer, [blockHash])).toEqual({ got: [], reupload: "requested" });

    expect((await wanted(source)).blocks).toEqual([{ hash: blockHash, path: "film.mkv" }]);
  });

  test("wakes a holder waiting for re-upload requests as soon as one is recorded", async () => {
    const { blockHash } = await hub.commitFile(source, "media", "film.mkv", "frames of a film");
    await acknowledge(first, [{ path: "film.mkv", ok: true }]);
    await acknowledge(second, [{ path: "film.mkv", ok: true }]);
    const asking = wanted(source, 30);
    const deadline = Date.now() + 5000;
    while (hub.pendingWaits() === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));

    const newcomer = await hub.enroll(await hub.mintToken([{ name: "media", role: "replica" }]));
    await fetchBlocks(newcomer, [blockHash]);

    expect(await asking).toEqual({ storage: "relay", blocks: [{ hash: blockHash, path: "film.mkv" }] });
  });

  test("refuses a replica's question for blocks to upload again (403): only sources and peers upload", async () => {
    const response = await hub.deviceFetch(first, "GET", "/v1/shares/media/wanted-blocks?wait=0");
    await expectError(
      response,
      403,
      "forbidden",
      /is a replica of "media": only its sources and peers upload/,
    );
  });

  test("never drops a block that a full share also references", async () => {
    await hub.adminJson("POST", "/v1/admin/shares", { name: "backup" });
    const backupSource = await hub.enroll(await hub.mintToken([{ name: "backup", role: "source" }]));
    await hub.commitFile(backupSource, "backup", "copy.mkv", "frames of a film");
    const { blockHash } = await hub.commitFile(source, "media", "film.mkv", "frames of a film");

    await acknowledge(first, [{ path: "film.mkv", ok: true }]);
    await acknowledge(second, [{ path: "film.mkv", ok: true }]);
    await collectGarbage(hub.ctx);

    expect(await stored(blockHash)).toBe(true);
  });
});

describe("a full share", () => {
  beforeEach(() => setUp("full"));

  test("keeps its blocks after every member acknowledged them, and tells its holders it never asks", async () => {
    const { blockHash } = await hub.commitFile(source, "media", "film.mkv", "frames of a film");
    await acknowledge(first, [{ path: "film.mkv", ok: true }]);
    await acknowledge(second, [{ path: "film.mkv", ok: true }]);
    await collectGarbage(hub.ctx);

    expect(await stored(blockHash)).toBe(true);
    expect(await wanted(source)).toEqual({ storage: "full", blocks: [] });
  });
});

test("on the Workers limits, dropping, requesting and re-uploading 100 blocks binds at most 100 parameters per query", async () => {
  await hub.close();
  const params: number[] = [];
  hub = await createTestHub({ limits: WORKER_LIMITS, onQuery: (_sql, p) => params.push(p.length) });
  await setUp("relay");
  const files = await Promise.all(
    Array.from({ length: 100 }, async (_, i) => {
      const bytes = new TextEncoder().encode(`file number ${i}`);
      const hash = await sha256Hex(bytes);
      const entry = {
        path: `f${i}.txt`,
        type: "file",
        size: bytes.length,
        mode: 0o644,
        mtimeMs: 1_700_000_000_000,
        blockSize: MIN_BLOCK_BYTES,
        blocks: [hash],
        hash: await contentHash(bytes.length, MIN_BLOCK_BYTES, [hash]),
      };
      return { entry, hash, bytes };
    }),
  );
  const entries = files.map((f) => f.entry);
  await hub.deviceFetch(source, "POST", "/v1/shares/media/reports", { entries });
  await hub.deviceFetch(source, "POST", "/v1/blocks", encodeBlockFrames(files));
  const committed = await hub.deviceFetch(source, "POST", "/v1/shares/media/reports", { entries });
  expect(await committed.json()).toMatchObject({ status: "accepted", accepted: 100 });
  const all = files.map((f) => ({ path: f.entry.path, ok: true }));
  await acknowledge(first, all);
  await acknowledge(second, all);
  expect(await hub.ctx.blockStore.has(files.map((f) => f.hash))).toEqual(new Set());

  const newcomer = await hub.enroll(await hub.mintToken([{ name: "media", role: "replica" }]));
  expect(
    await fetchBlocks(
      newcomer,
      files.map((f) => f.hash),
    ),
  ).toEqual({ got: [], reupload: "requested" });
  await acknowledge(
    newcomer,
    files.map((f) => ({ path: f.entry.path, ok: false })),
  );
  expect((await wanted(source)).blocks).toHaveLength(100);
  await hub.deviceFetch(source, "POST", "/v1/blocks", encodeBlockFrames(files));
  expect(
    (
      await fetchBlocks(
        newcomer,
        files.map((f) => f.hash),
      )
    ).got,
  ).toHaveLength(100);
  await hub.deviceFetch(newcomer, "PUT", "/v1/shares/media/status", { lastError: null });
  await collectGarbage(hub.ctx);

  expect(await hub.ctx.blockStore.has(files.map((f) => f.hash))).toEqual(new Set());
  expect(Math.max(...params)).toBeLessThanOrEqual(100);
});
