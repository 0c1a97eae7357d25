// Two-way shares at the hub: a peer's change names the version it was based on; concurrent ones are settled so
// that nothing is lost (modify beats delete, a loser survives as a conflict copy) and every device converges.
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { encodeBlockFrames } from "../../shared/blocks/block-frames.ts";
import { MIN_BLOCK_BYTES } from "../../shared/blocks/block-size.ts";
import { contentHash } from "../../shared/blocks/content-hash.ts";
import { sha256Hex } from "../../shared/blocks/hex.ts";
import { createTestHub, type TestDevice, type TestHub } from "../../test/support/test-hub-context.ts";

let hub: TestHub;
let alice: TestDevice;
let bob: TestDevice;

async function setUp(conflicts: "keep-both" | "newest-wins") {
  hub = await createTestHub();
  await hub.adminJson("POST", "/v1/admin/shares", { name: "docs", conflicts });
  alice = await hub.enroll(await hub.mintToken([{ name: "docs", role: "peer" }]), "alice");
  bob = await hub.enroll(await hub.mintToken([{ name: "docs", role: "peer" }]), "bob");
}
afterEach(() => hub?.close());

async function file(path: string, content: string, mtimeMs: number, baseSeq?: number) {
  const bytes = new TextEncoder().encode(content);
  const hash = await sha256Hex(bytes);
  return {
    entry: {
      path,
      type: "file",
      size: bytes.length,
      mode: 0o644,
      mtimeMs,
      blockSize: MIN_BLOCK_BYTES,
      blocks: [hash],
      hash: await contentHash(bytes.length, MIN_BLOCK_BYTES, [hash]),
      ...(baseSeq !== undefined ? { baseSeq } : {}),
    },
    frame: { hash, bytes },
  };
}
const deleted = (path: string, baseSeq: number) => ({ entry: { path, type: "deleted", baseSeq } });

type Answer = {
  status: string;
  head: number;
  conflicts?: { path: string; winner: string; copy?: string; reason: string }[];
};

/** Reports, uploads what the hub asks for, reports again: the answer of the commit. */
async function report(
  device: TestDevice,
  items: { entry: unknown; frame?: { hash: string; bytes: Uint8Array } }[],
) {
  const body = { entries: items.map((i) => i.entry) };
  let response = await hub.deviceFetch(device, "POST", "/v1/shares/docs/reports", body);
  let answer = (await response.json()) as Answer & { missing?: string[] };
  if (answer.status === "missing") {
    const frames = items.flatMap((i) => (i.frame && answer.missing!.includes(i.frame.hash) ? [i.frame] : []));
    expect((await hub.deviceFetch(device, "POST", "/v1/blocks", encodeBlockFrames(frames))).status).toBe(200);
    response = await hub.deviceFetch(device, "POST", "/v1/shares/docs/reports", body);
    answer = (await response.json()) as Answer;
  }
  expect(answer.status).toBe("accepted");
  return answer;
}

async function tree(): Promise<Record<string, string>> {
  const rows = await hub.client.execute(
    "select path, type, hash, device_id from entries where share = 'docs' order by path",
  );
  return Object.fromEntries(
    rows.rows
      .filter((r) => r.type !== "deleted")
      .map((r) => [String(r.path), `${r.type}:${String(r.hash).slice(0, 8)}`]),
  );
}
const hashOf = async (content: string) =>
  (
    await contentHash(content.length, MIN_BLOCK_BYTES, [await sha256Hex(new TextEncoder().encode(content))])
  ).slice(0, 8);

describe("keep-both (the default)", () => {
  beforeEach(() => setUp("keep-both"));

  test("a change based on the current version is accepted as is", async () => {
    const first = await report(alice, [await file("a.txt", "v1", 1000, 0)]);
    const second = await report(bob, [await file("a.txt", "v2", 2000, first.head)]);
    expect(second.conflicts).toBeUndefined();
    expect(await tree()).toEqual({ "a.txt": `file:${await hashOf("v2")}` });
  });

  test("both edit one file: the newer mtime keeps the path, the other survives as a conflict copy named after its device", async () => {
    const base = await report(alice, [await file("a.txt", "base", 1000, 0)]);
    await report(alice, [await file("a.txt", "alice's edit", 3000, base.head)]);
    const answer = await report(bob, [await file("a.txt", "bob's edit", 2000, base.head)]);
    expect(answer.conflicts).toEqual([
      {
        path: "a.txt",
        winner: "hub",
        copy: expect.stringMatching(/^a\.sync-conflict-\d{8}-\d{6}-bob\.txt$/),
        reason: "newer modification time",
      },
    ]);
    const copy = answer.conflicts![0]!.copy!;
    expect(await tree()).toEqual({
      "a.txt": `file:${await hashOf("alice's edit")}`,
      [copy]: `file:${await hashOf("bob's edit")}`,
    });
  });

  test("an edit committed while another based on the same version is between its read and its write is still concurrent: both survive", async () => {
    const base = await report(alice, [await file("a.txt", "base", 1000, 0)]);
    const aliceEdit = await file("a.txt", "alice's edit", 3000, base.head);
    const bobEdit = await file("a.txt", "bob's edit", 2000, base.head);
    // Alice's commit has read the versions and checks its blocks; bob's whole commit lands before it writes (two
    // hub processes, or any wait on the blocks' store, can do this).
    const store = hub.ctx.blockStore;
    const realHas = store.has.bind(store);
    let releaseAlice = () => {};
    const aliceWaits = new Promise<void>((resolve) => {
      releaseAlice = resolve;
    });
    let calls = 0;
    store.has = async (hashes) => {
      const answer = await realHas(hashes);
      if (++calls === 1) await aliceWaits;
      return answer;
    };
    await store.put([aliceEdit.frame, bobEdit.frame], hub.ctx.now());
    const aliceAnswer = report(alice, [aliceEdit]);
    while (calls === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    const bobAnswer = await report(bob, [bobEdit]);
    releaseAlice();
    const conflicts = [...((await aliceAnswer).conflicts ?? []), ...(bobAnswer.conflicts ?? [])];
    store.has = realHas;
    expect(conflicts).toHaveLength(1);
    const copy = conflicts[0]!.copy!;
    expect(copy).toMatch(/-bob\.txt$/);
    expect(await tree()).toEqual({
      "a.txt": `file:${await hashOf("alice's edit")}`,
      [copy]: `file:${await hashOf("bob's edit")}`,
    });
  });

  test("the reporter's newer edit wins; the hub's version becomes the copy, named after the device that wrote it", async () => {
    const base = await report(alice, [await file("a.txt", "base", 1000, 0)]);
    await report(alice, [await file("a.txt", "alice's edit", 2000, base.head)]);
    const answer = await report(bob, [await file("a.txt", "bob's edit", 3000, base.head)]);
    const copy = answer.conflicts![0]!.copy!;
    expect(copy).toMatch(/-alice\.txt$/);
    expect(await tree()).toEqual({
      "a.txt": `file:${await hashOf("bob's edit")}`,
      [copy]: `file:${await hashOf("alice's edit")}`,
    });
  });

  test("equal mtimes: the device order decides, the same way whoever reports last", async () => {
    const base = await report(alice, [await file("a.txt", "base", 1000, 0)]);
    await report(alice, [await file("a.txt", "from alice", 5000, base.head)]);
    const answer = await report(bob, [await file("a.txt", "from bob", 5000, base.head)]);
    const aliceWins = alice.deviceId < bob.deviceId;
    expect(answer.conflicts![0]!.winner).toBe(aliceWins ? "hub" : "reported");
    expect(answer.conflicts![0]!.reason).toBe("same time; device order");
  });

  test("modify beats delete, whichever arrives first", async () => {
    const base = await report(alice, [
      await file("a.txt", "base", 1000, 0),
      await file("b.txt", "base", 1000, 0),
    ]);
    // a.txt: alice deletes, then bob's edit (based on the old version) arrives → the edit is back.
    await report(alice, [deleted("a.txt", base.head)]);
    const edit = await report(bob, [await file("a.txt", "bob kept editing", 2000, base.head)]);
    expect(edit.conflicts).toEqual([{ path: "a.txt", winner: "reported", reason: "modify beats delete" }]);
    // b.txt: bob edits first, then alice's delete (based on the old version) arrives → refused, the edit stays.
    await report(bob, [await file("b.txt", "bob's b", 2000, base.head)]);
    const del = await report(alice, [deleted("b.txt", base.head)]);
    expect(del.conflicts).toEqual([{ path: "b.txt", winner: "hub", reason: "modify beats delete" }]);
    expect(await tree()).toEqual({
      "a.txt": `file:${await hashOf("bob kept editing")}`,
      "b.txt": `file:${await hashOf("bob's b")}`,
    });
  });

  test("both create one new path with different content: both are kept", async () => {
    await report(alice, [await file("new.txt", "alice's", 1000, 0)]);
    const answer = await report(bob, [await file("new.txt", "bob's", 2000, 0)]);
    expect(Object.keys(await tree())).toHaveLength(2);
    expect(answer.conflicts![0]).toMatchObject({ path: "new.txt", winner: "reported" });
  });

  test("both create one path with the same content: nothing to settle, nothing new committed", async () => {
    const first = await report(alice, [await file("same.txt", "same", 1000, 0)]);
    const second = await report(bob, [await file("same.txt", "same", 1000, 0)]);
    expect(second.conflicts).toBeUndefined();
    expect(second.head).toBe(first.head);
  });

  test("the same content with other mtimes on both sides (trees merged on joining): no conflict copy", async () => {
    await report(alice, [await file("same.txt", "same", 1000, 0)]);
    const answer = await report(bob, [await file("same.txt", "same", 9000, 0)]);
    expect(answer.conflicts).toBeUndefined();
    expect(await tree()).toEqual({ "same.txt": `file:${await hashOf("same")}` });
  });

  test("a type clash keeps both: the directory keeps its path, the file becomes the copy", async () => {
    await report(alice, [{ entry: { path: "x", type: "dir", mode: 0o755, baseSeq: 0 } }]);
    const answer = await report(bob, [await file("x", "a file", 2000, 0)]);
    expect(answer.conflicts![0]).toMatchObject({
      path: "x",
      winner: "hub",
      reason: "a directory keeps its path",
    });
    const t = await tree();
    expect(t.x).toBe("dir:");
    expect(t[answer.conflicts![0]!.copy!]).toBe(`file:${await hashOf("a file")}`);
  });

  test("a device's own later change is never a conflict with its own earlier one", async () => {
    await report(alice, [await file("a.txt", "one", 1000, 0)]);
    const again = await report(alice, [await file("a.txt", "two", 2000, 0)]);
    expect(again.conflicts).toBeUndefined();
  });

  test("a source's report names no base and is never treated as concurrent", async () => {
    const source = await hub.enroll(await hub.mintToken([{ name: "docs", role: "source" }]), "src");
    await report(alice, [await file("a.txt", "peer", 1000, 0)]);
    const answer = await report(source, [await file("a.txt", "source", 500)]);
    expect(answer.conflicts).toBeUndefined();
    expect(await tree()).toEqual({ "a.txt": `file:${await hashOf("source")}` });
  });
});

describe("newest-wins", () => {
  beforeEach(() => setUp("newest-wins"));

  test("the newer edit keeps the path and no copy is made (the loser is in the trash where it was)", async () => {
    const base = await report(alice, [await file("a.txt", "base", 1000, 0)]);
    await report(alice, [await file("a.txt", "alice's edit", 3000, base.head)]);
    const answer = await report(bob, [await file("a.txt", "bob's edit", 2000, base.head)]);
    expect(answer.conflicts).toEqual([
      { path: "a.txt", winner: "hub", reason: "newest wins; the other is in trash where it was" },
    ]);
    expect(await tree()).toEqual({ "a.txt": `file:${await hashOf("alice's edit")}` });
  });

  test("a type clash still keeps both", async () => {
    await report(alice, [await file("x", "a file", 1000, 0)]);
    const answer = await report(bob, [
      { entry: { path: "x", type: "symlink", target: "elsewhere", baseSeq: 0 } },
    ]);
    expect(answer.conflicts![0]!.copy).toBeDefined();
    expect(Object.keys(await tree())).toHaveLength(2);
  });
});
