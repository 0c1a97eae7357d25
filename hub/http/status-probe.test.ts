// GET /v1/config with `x-fleetsync-presence: none` (agent status) answers without counting as the device being seen.
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { PRESENCE_HEADER } from "../../shared/protocol/messages.ts";
import { createTestHub, type TestDevice, type TestHub } from "../../test/support/test-hub-context.ts";

describe("the status probe header", () => {
  let hub: TestHub;
  let device: TestDevice;
  beforeEach(async () => {
    hub = await createTestHub();
    device = await hub.enroll();
  });
  afterEach(() => hub.close());

  const lastSeen = async () => {
    const { devices } = await hub.adminJson<{ devices: { id: string; lastSeenAt: string | null }[] }>(
      "GET",
      "/v1/admin/devices",
    );
    return devices.find((d) => d.id === device.deviceId)?.lastSeenAt;
  };

  test("a probe gets the config but leaves last seen where the running agent left it", async () => {
    const enrolledAt = await lastSeen();
    hub.clock.advance(3_600_000);
    const probe = await hub.deviceFetch(device, "GET", "/v1/config", undefined, {
      headers: { [PRESENCE_HEADER]: "none" },
    });
    expect(probe.status).toBe(200);
    expect(await probe.json()).toMatchObject({ deviceId: device.deviceId });
    expect(await lastSeen()).toBe(enrolledAt);

    const ordinary = await hub.deviceFetch(device, "GET", "/v1/config");
    expect(ordinary.status).toBe(200);
    expect(await lastSeen()).toBe(new Date(hub.clock.now()).toISOString());
  });
});
