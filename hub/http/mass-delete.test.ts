// The mass-delete guard: a report deleting most of a share is held, shown, and let through only once confirmed.
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { createTestHub, type TestDevice, type TestHub } from "../../test/support/test-hub-context.ts";
import { isMassDelete } from "../services/mass-delete-guard.ts";

let hub: TestHub;
let source: TestDevice;
beforeEach(async () => {
  hub = await createTestHub();
  await hub.createShare("docs");
  source = await hub.enroll(await hub.mintToken([{ name: "docs", role: "source" }]), "pi-primary");
});
afterEach(() => hub.close());

const report = async (entries: unknown[]) => {
  const response = await hub.deviceFetch(source, "POST", "/v1/shares/docs/reports", { entries });
  expect(response.status).toBe(200);
  return (await response.json()) as Record<string, unknown>;
};
const dirs = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ path: `d${i}`, type: "dir", mode: 0o755 }));
const deletes = (n: number) => Array.from({ length: n }, (_, i) => ({ path: `d${i}`, type: "deleted" }));
const show = () =>
  hub.adminJson<{ head: number; heldDelete: Record<string, unknown> | null }>("GET", "/v1/admin/shares/docs");

describe("isMassDelete", () => {
  test.each([
    [10, 20, 0, true],
    [9, 18, 0, false],
    [10, 21, 0, false],
    [2, 2, 0, true],
    [1, 1, 0, false],
    [0, 0, 0, false],
    [5000, 100_000, 0, false],
    [50_000, 100_000, 0, true],
    // A rename or move creates what it deletes: not a mass delete.
    [3, 3, 3, false],
    [20, 20, 20, false],
    // Deleting nearly everything while creating a little still is.
    [40, 40, 1, true],
  ])("deleting %i of %i live entries while creating %i: %s", (deletes, live, creates, held) => {
    expect(isMassDelete({ deletes, live, creates })).toBe(held);
  });
});

test("commits renaming every entry of a small share (as many created as deleted)", async () => {
  await report(dirs(3));
  const renamed = Array.from({ length: 3 }, (_, i) => ({ path: `renamed${i}`, type: "dir", mode: 0o755 }));
  expect(await report([...deletes(3), ...renamed])).toMatchObject({ status: "accepted", accepted: 6 });
});

test("holds a report deleting half of a share's entries, commits nothing, and says how to confirm", async () => {
  await report(dirs(20));
  const answer = await report(deletes(10));
  expect(answer).toEqual({
    status: "held",
    deletes: 10,
    live: 20,
    reason: `report from pi-primary (${source.deviceId}) would delete 10 of 20 entries of share docs; nothing was deleted. If that is intended: fleetsync share confirm-delete docs`,
  });
  const shown = await show();
  expect(shown.head).toBe(20);
  expect(shown.heldDelete).toEqual({
    deviceId: source.deviceId,
    deletes: 10,
    live: 20,
    since: new Date(hub.clock.now()).toISOString(),
    confirm: "fleetsync share confirm-delete docs",
  });
  const live = await hub.client.execute("select count(*) as n from entries where type <> 'deleted'");
  expect(Number(live.rows[0]?.n)).toBe(20);
});

test("commits a smaller delete (under 10 entries, or under half)", async () => {
  await report(dirs(18));
  expect(await report(deletes(9))).toMatchObject({ status: "accepted", accepted: 9 });
});

test("holds a report deleting every entry of a share of two", async () => {
  await report(dirs(2));
  expect(await report(deletes(2))).toMatchObject({ status: "held", deletes: 2, live: 2 });
});

test("lets held-sized reports through for 15 minutes once confirmed", async () => {
  await report(dirs(40));
  expect(await report(deletes(20))).toMatchObject({ status: "held" });

  const confirmed = await hub.adminJson("POST", "/v1/admin/shares/docs/confirm-delete");
  expect(confirmed).toEqual({
    share: "docs",
    until: new Date(hub.clock.now() + 15 * 60_000).toISOString(),
    held: `20 of 40 entries from device ${source.deviceId}`,
  });
  expect(await report(deletes(20))).toMatchObject({ status: "accepted", accepted: 20 });
  expect((await show()).heldDelete).toBeNull();

  // Within the window the rest of a large delete goes through too (it arrives in several reports).
  const rest = Array.from({ length: 20 }, (_, i) => ({ path: `d${i + 20}`, type: "deleted" }));
  expect(await report(rest)).toMatchObject({ status: "accepted", accepted: 20 });
});

test("a confirmation expires after 15 minutes", async () => {
  await report(dirs(20));
  await hub.adminJson("POST", "/v1/admin/shares/docs/confirm-delete");
  hub.clock.advance(15 * 60_000 + 1);
  expect(await report(deletes(10))).toMatchObject({ status: "held" });
});

test("clears a device's hold once it reports normally again", async () => {
  await report(dirs(20));
  await report(deletes(10));
  expect((await show()).heldDelete).not.toBeNull();
  await report([{ path: "new", type: "dir", mode: 0o755 }]);
  expect((await show()).heldDelete).toBeNull();
});

test("answers 404 to confirm-delete of a share that does not exist", async () => {
  const response = await hub.admin("POST", "/v1/admin/shares/nope/confirm-delete");
  expect(response.status).toBe(404);
});
