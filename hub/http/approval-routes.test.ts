// Device approval: a device enrolled with an approval token (or into a share that requires it) waits, refused
// data and reports, until the admin approves it; a denied device is refused for good.
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { expectError } from "../../test/support/security-cases.ts";
import { createTestHub, type TestDevice, type TestHub } from "../../test/support/test-hub-context.ts";

let hub: TestHub;
beforeEach(async () => {
  hub = await createTestHub();
  await hub.createShare("docs");
});
afterEach(() => hub.close());

async function approvalToken(role: "source" | "replica" = "replica") {
  const answer = await hub.adminJson<{ token: string }>("POST", "/v1/admin/tokens", {
    shares: [{ name: "docs", role }],
    approval: true,
  });
  return answer.token;
}

const waitingMessage = (device: TestDevice) =>
  new RegExp(
    `device ${device.deviceId} is waiting for approval: fleetsync device approve ${device.deviceId}`,
  );

describe("a device enrolled with an approval token", () => {
  test("is listed as pending", async () => {
    const device = await hub.enroll(await approvalToken(), "new-pi");
    const { devices } = await hub.adminJson<{ devices: { id: string; state: string }[] }>(
      "GET",
      "/v1/admin/devices",
    );
    expect(devices).toEqual([expect.objectContaining({ id: device.deviceId, state: "pending" })]);
  });

  test("is refused instructions, blocks, config and cursor with 403 naming the approve command", async () => {
    const device = await hub.enroll(await approvalToken(), "new-pi");
    for (const [method, path, body] of [
      ["GET", "/v1/instructions?wait=0", undefined],
      ["GET", "/v1/config", undefined],
      ["GET", `/v1/blocks?hashes=${"a".repeat(64)}`, undefined],
      ["PUT", "/v1/shares/docs/cursor", { cursor: 0 }],
    ] as const) {
      await expectError(
        await hub.deviceFetch(device, method, path, body),
        403,
        "awaiting_approval",
        waitingMessage(device),
      );
    }
  });

  test("may not report changes, and its refused report changes nothing", async () => {
    const device = await hub.enroll(await approvalToken("source"), "new-nas");
    const before = await hub.digest();
    await expectError(
      await hub.deviceFetch(device, "POST", "/v1/shares/docs/reports", {
        entries: [{ path: "a", type: "dir" }],
      }),
      403,
      "awaiting_approval",
      waitingMessage(device),
    );
    // Only last-seen may move (the dashboard shows a waiting device as online).
    const strip = (digest: string) => digest.replace(/"last_seen_at":\d+/g, "");
    expect(strip(await hub.digest())).toBe(strip(before));
  });

  test("syncs once approved", async () => {
    const source = await hub.enroll(await hub.mintToken([{ name: "docs", role: "source" }]), "nas");
    await hub.deviceFetch(source, "POST", "/v1/shares/docs/reports", {
      entries: [{ path: "a", type: "dir" }],
    });
    const device = await hub.enroll(await approvalToken(), "new-pi");

    const approved = await hub.admin("POST", `/v1/admin/devices/${device.deviceId}/approve`);
    expect(approved.status).toBe(200);
    expect(await approved.json()).toEqual({ id: device.deviceId, approval: "approved" });

    const poll = await hub.deviceFetch(device, "GET", "/v1/instructions?wait=0");
    expect(poll.status).toBe(200);
    expect(((await poll.json()) as { instructions: string[] }).instructions).toHaveLength(1);
  });

  test("is refused for good once denied (401), and cannot be approved afterwards", async () => {
    const device = await hub.enroll(await approvalToken(), "stranger");
    expect((await hub.admin("POST", `/v1/admin/devices/${device.deviceId}/deny`)).status).toBe(200);

    await expectError(
      await hub.deviceFetch(device, "GET", "/v1/config"),
      401,
      "unauthenticated",
      new RegExp(`device ${device.deviceId} was denied`),
    );
    await expectError(
      await hub.admin("POST", `/v1/admin/devices/${device.deviceId}/approve`),
      409,
      "conflict",
      /is not waiting for approval \(it is denied\)/,
    );
  });
});

describe("a share created with approval required", () => {
  test("holds every device that joins it, whatever its token says", async () => {
    await hub.createShare("strict", { approval: "required" } as { kind?: string });
    const device = await hub.enroll(await hub.mintToken([{ name: "strict", role: "replica" }]), "pi");
    await expectError(await hub.deviceFetch(device, "GET", "/v1/config"), 403, "awaiting_approval");
  });

  test("does not hold devices of other shares", async () => {
    await hub.createShare("strict", { approval: "required" } as { kind?: string });
    const device = await hub.enroll(await hub.mintToken([{ name: "docs", role: "replica" }]), "pi");
    expect((await hub.deviceFetch(device, "GET", "/v1/config")).status).toBe(200);
  });
});

describe("approve and deny", () => {
  test("answer 404 for a device that does not exist", async () => {
    await expectError(
      await hub.admin("POST", "/v1/admin/devices/dev_nope/approve"),
      404,
      "not_found",
      /no device with id dev_nope; see fleetsync device list/,
    );
  });

  test("answer 409 for a device that never waited", async () => {
    const device = await hub.enroll(await hub.mintToken([{ name: "docs", role: "replica" }]));
    await expectError(
      await hub.admin("POST", `/v1/admin/devices/${device.deviceId}/deny`),
      409,
      "conflict",
      /is not waiting for approval \(it is approved\)/,
    );
  });

  test("need the admin token", async () => {
    const device = await hub.enroll(await approvalToken());
    await expectError(
      await hub.request("POST", `/v1/admin/devices/${device.deviceId}/approve`),
      401,
      "unauthenticated",
    );
  });
});
