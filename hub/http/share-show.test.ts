// `share show` over the admin API: newest runs first, lag in files and bytes, and each member's own last error.
import { afterEach, beforeEach, expect, test } from "vitest";
import { expectError } from "../../test/support/security-cases.ts";
import { createTestHub, type TestDevice, type TestHub } from "../../test/support/test-hub-context.ts";

type Shown = {
  head: number;
  members: {
    deviceId: string;
    role: string;
    revoked: boolean;
    cursor: number;
    lag: number;
    lagFiles: number;
    lagBytes: number;
    lastError: string | null;
    lastErrorAt: string | null;
  }[];
  recentRuns: { toSeq: number; kind: string; at: string }[];
};

let hub: TestHub;
let source: TestDevice;
let replica: TestDevice;
beforeEach(async () => {
  hub = await createTestHub();
  await hub.createShare("docs");
  source = await hub.enroll(await hub.mintToken([{ name: "docs", role: "source" }]), "a-source");
  replica = await hub.enroll(await hub.mintToken([{ name: "docs", role: "replica" }]), "b-replica");
});
afterEach(() => hub.close());

const show = () => hub.adminJson<Shown>("GET", "/v1/admin/shares/docs");
const memberOf = async (device: TestDevice) =>
  (await show()).members.find((m) => m.deviceId === device.deviceId)!;

test("lists the newest 20 runs, newest first", async () => {
  for (let i = 1; i <= 25; i++) {
    await hub.deviceFetch(source, "POST", "/v1/shares/docs/reports", {
      entries: [{ path: `d${i}`, type: "dir" }],
    });
    hub.clock.advance(1000);
  }
  const { recentRuns } = await show();
  expect(recentRuns.map((r) => r.toSeq)).toEqual(Array.from({ length: 20 }, (_, i) => 25 - i));
});

test("shows each receiving member's lag in sequence numbers, files and bytes", async () => {
  await hub.commitFile(source, "docs", "a.txt", "12345");
  await hub.commitFile(source, "docs", "b.txt", "1234567890");
  await hub.deviceFetch(source, "POST", "/v1/shares/docs/reports", { entries: [{ path: "d", type: "dir" }] });

  expect(await memberOf(replica)).toMatchObject({ cursor: 0, lag: 3, lagFiles: 3, lagBytes: 15 });
  expect(await memberOf(source)).toMatchObject({ cursor: 3, lag: 0, lagFiles: 0, lagBytes: 0 });

  await hub.deviceFetch(replica, "PUT", "/v1/shares/docs/cursor", { cursor: 1 });
  expect(await memberOf(replica)).toMatchObject({ cursor: 1, lag: 2, lagFiles: 2, lagBytes: 10 });
});

test("marks revoked members", async () => {
  await hub.adminJson("POST", `/v1/admin/devices/${replica.deviceId}/revoke`);
  expect(await memberOf(replica)).toMatchObject({ revoked: true });
  expect(await memberOf(source)).toMatchObject({ revoked: false });
});

test("shows the error a member reports about itself, with its time, until it clears it", async () => {
  const paused =
    'share "docs": root /srv/docs is missing (disk not mounted?); not syncing it until it is back';
  const response = await hub.deviceFetch(replica, "PUT", "/v1/shares/docs/status", { lastError: paused });
  expect(await response.json()).toEqual({
    share: "docs",
    lastError: paused,
    lastErrorAt: new Date(hub.clock.now()).toISOString(),
  });
  expect(await memberOf(replica)).toMatchObject({
    lastError: paused,
    lastErrorAt: new Date(hub.clock.now()).toISOString(),
  });

  await hub.deviceFetch(replica, "PUT", "/v1/shares/docs/status", { lastError: null });
  expect(await memberOf(replica)).toMatchObject({ lastError: null, lastErrorAt: null });
});

test("takes a status from any role, but only from a member", async () => {
  const fromSource = await hub.deviceFetch(source, "PUT", "/v1/shares/docs/status", {
    lastError: "marker missing",
  });
  expect(fromSource.status).toBe(200);
  expect(await memberOf(source)).toMatchObject({ lastError: "marker missing" });

  await hub.createShare("other");
  const stranger = await hub.enroll(await hub.mintToken([{ name: "other", role: "replica" }]));
  const before = await hub.digest();
  const refused = await hub.deviceFetch(stranger, "PUT", "/v1/shares/docs/status", { lastError: "x" });
  await expectError(refused, 403, "forbidden", /is not a member of share "docs"/);
  expect(await hub.digest()).toBe(before);
});

test("refuses a status body without lastError with 422 naming the field", async () => {
  const response = await hub.deviceFetch(replica, "PUT", "/v1/shares/docs/status", {});
  await expectError(response, 422, "invalid", /body field "lastError"/);
});
