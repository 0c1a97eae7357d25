// The dashboard's state fingerprint moves with what the pages show, and only then.
import { afterEach, beforeEach, expect, test } from "vitest";
import { createTestHub, type TestHub } from "../../test/support/test-hub-context.ts";
import { readStateVersion } from "./dashboard-state-version.ts";

let hub: TestHub;
beforeEach(async () => {
  hub = await createTestHub();
});
afterEach(() => hub.close());

test("stays the same while nothing changes", async () => {
  await hub.createShare("docs");
  expect(await readStateVersion(hub.ctx)).toBe(await readStateVersion(hub.ctx));
});

test("moves when a share's head moves, a device enrolls, or a device goes silent", async () => {
  await hub.createShare("docs");
  const source = await hub.enroll(await hub.mintToken([{ name: "docs", role: "source" }]), "nas");
  const before = await readStateVersion(hub.ctx);

  await hub.deviceFetch(source, "POST", "/v1/shares/docs/reports", { entries: [{ path: "a", type: "dir" }] });
  const afterReport = await readStateVersion(hub.ctx);
  expect(afterReport).not.toBe(before);

  hub.clock.advance(5 * 60_000);
  expect(await readStateVersion(hub.ctx)).not.toBe(afterReport);
});

test("moves when a token is minted or a device is revoked", async () => {
  const device = await hub.enroll();
  const before = await readStateVersion(hub.ctx);
  await hub.mintToken([{ name: "lobby", role: "replica" }]);
  const afterToken = await readStateVersion(hub.ctx);
  expect(afterToken).not.toBe(before);
  await hub.adminJson("POST", `/v1/admin/devices/${device.deviceId}/revoke`);
  expect(await readStateVersion(hub.ctx)).not.toBe(afterToken);
});
