// Admin verbs for tidying up: rename and remove devices, delete shares, and how enrolment names a device.
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { expectError } from "../../test/support/security-cases.ts";
import { createTestHub, type TestDevice, type TestHub } from "../../test/support/test-hub-context.ts";

let hub: TestHub;
beforeEach(async () => {
  hub = await createTestHub();
  await hub.createShare("docs");
});
afterEach(() => hub.close());

const count = async (sql: string, args: string[] = []) =>
  Number((await hub.client.execute({ sql, args })).rows[0]?.n);
const devicesListed = async () =>
  (
    await hub.adminJson<{ devices: { id: string; name: string; lastSeenAt: string | null }[] }>(
      "GET",
      "/v1/admin/devices",
    )
  ).devices;

describe("device rename", () => {
  test("changes the name the hub lists", async () => {
    const device = await hub.enroll(undefined, "raspberrypi");
    expect(
      await hub.adminJson("PATCH", `/v1/admin/devices/${device.deviceId}`, { name: "pi-kitchen" }),
    ).toEqual({
      id: device.deviceId,
      name: "pi-kitchen",
    });
    expect((await devicesListed()).map((d) => d.name)).toEqual(["pi-kitchen"]);
  });

  test("answers 404 for an unknown device and 422 for an empty name", async () => {
    const device = await hub.enroll();
    await expectError(
      await hub.admin("PATCH", "/v1/admin/devices/dev_nope", { name: "x" }),
      404,
      "not_found",
      /no device with id dev_nope; see fleetsync device list/,
    );
    await expectError(
      await hub.admin("PATCH", `/v1/admin/devices/${device.deviceId}`, { name: "  " }),
      422,
      "invalid",
      /body field "name"/,
    );
  });
});

describe("device remove", () => {
  let replica: TestDevice;
  beforeEach(async () => {
    const source = await hub.enroll(await hub.mintToken([{ name: "docs", role: "source" }]));
    replica = await hub.enroll(await hub.mintToken([{ name: "docs", role: "replica" }]));
    await hub.commitFile(source, "docs", "a.txt", "content");
    await hub.deviceFetch(replica, "GET", "/v1/instructions?wait=0");
    await hub.deviceFetch(replica, "PUT", "/v1/shares/docs/cursor", { cursor: 1 });
  });

  test("refuses an active device with 409 saying to revoke it first, and changes nothing", async () => {
    const before = await hub.digest();
    await expectError(
      await hub.admin("DELETE", `/v1/admin/devices/${replica.deviceId}`),
      409,
      "conflict",
      new RegExp(`revoke it first: fleetsync device revoke ${replica.deviceId}$`),
    );
    expect(await hub.digest()).toBe(before);
  });

  test("forgets a revoked device: memberships, instructions and token records go, history stays", async () => {
    const id = replica.deviceId;
    await hub.adminJson("POST", `/v1/admin/devices/${id}/revoke`);
    const runsBefore = await count("select count(*) as n from sync_runs");
    expect(await count("select count(*) as n from instructions where device_id = ?", [id])).toBeGreaterThan(
      0,
    );

    expect(await hub.adminJson("DELETE", `/v1/admin/devices/${id}`)).toEqual({
      id,
      removed: true,
      shares: ["docs"],
    });

    expect((await devicesListed()).map((d) => d.id)).not.toContain(id);
    expect(await count("select count(*) as n from members where device_id = ?", [id])).toBe(0);
    expect(await count("select count(*) as n from instructions where device_id = ?", [id])).toBe(0);
    expect(await count("select count(*) as n from device_jtis where device_id = ?", [id])).toBe(0);
    expect(await count("select count(*) as n from sync_runs")).toBe(runsBefore);
    const shown = await hub.adminJson<{ members: { deviceId: string }[] }>("GET", "/v1/admin/shares/docs");
    expect(shown.members.map((m) => m.deviceId)).not.toContain(id);
  });

  test("answers 404 for a device that does not exist", async () => {
    await expectError(await hub.admin("DELETE", "/v1/admin/devices/dev_nope"), 404, "not_found", /no device/);
  });
});

describe("share delete", () => {
  test("removes entries, members, instructions and block index, and leaves blocks to GC", async () => {
    const source = await hub.enroll(await hub.mintToken([{ name: "docs", role: "source" }]));
    const replica = await hub.enroll(await hub.mintToken([{ name: "docs", role: "replica" }]));
    await hub.commitFile(source, "docs", "a.txt", "content");
    await hub.deviceFetch(replica, "GET", "/v1/instructions?wait=0");

    expect(await hub.adminJson("DELETE", "/v1/admin/shares/docs")).toEqual({
      name: "docs",
      deleted: true,
      entries: 1,
      members: 2,
    });

    for (const table of ["entries", "members", "instructions", "share_blocks", "shares"]) {
      expect(await count(`select count(*) as n from ${table}`), table).toBe(0);
    }
    expect(await count("select count(*) as n from blocks")).toBe(1);
    hub.clock.advance(1);
    expect(await hub.adminJson("POST", "/v1/admin/gc?graceSeconds=0")).toEqual({ deleted: 1 });
    await expectError(await hub.admin("GET", "/v1/admin/shares/docs"), 404, "not_found");
    const polled = await hub.deviceFetch(replica, "GET", "/v1/instructions?wait=0");
    expect(await polled.json()).toEqual({ instructions: [] });
    const reported = await hub.deviceFetch(source, "POST", "/v1/shares/docs/reports", {
      entries: [{ path: "x", type: "dir" }],
    });
    await expectError(reported, 403, "forbidden", /is not a member of share "docs"/);
  });

  test("answers 404 for a share that does not exist", async () => {
    await expectError(await hub.admin("DELETE", "/v1/admin/shares/nope"), 404, "not_found", /does not exist/);
  });
});

describe("enrolment naming", () => {
  const enrollWith = async (label: string, fields: Record<string, string>) => {
    const { token } = await hub.adminJson<{ token: string }>("POST", "/v1/admin/tokens", {
      shares: [{ name: "docs", role: "replica" }],
      label,
    });
    const { publicJwk } = await hub.newDeviceKey();
    return hub.request("POST", "/v1/enroll", { token, publicKey: publicJwk, ...fields });
  };
  const nameOf = async (response: Response) => {
    expect(response.status).toBe(201);
    const { deviceId } = (await response.json()) as { deviceId: string };
    return (await devicesListed()).find((d) => d.id === deviceId)?.name;
  };

  test("uses the token's label when the agent sends no explicit name", async () => {
    expect(await nameOf(await enrollWith("pi-kitchen", { hostname: "raspberrypi" }))).toBe("pi-kitchen");
  });

  test("lets an explicit name win over the label", async () => {
    expect(await nameOf(await enrollWith("pi-kitchen", { name: "pi-hall", hostname: "raspberrypi" }))).toBe(
      "pi-hall",
    );
  });

  test("falls back to the host name without a label", async () => {
    expect(await nameOf(await enrollWith("", { hostname: "raspberrypi" }))).toBe("raspberrypi");
  });

  test("still accepts an agent that sends only a name (older agents)", async () => {
    expect(await nameOf(await enrollWith("pi-kitchen", { name: "vm" }))).toBe("vm");
  });

  test("refuses with 422 an enrolment with no name from anywhere, leaving the token unused", async () => {
    const response = await enrollWith("", {});
    await expectError(response, 422, "invalid", /send "name" .* or "hostname".*the token was not used/);
    const { tokens } = await hub.adminJson<{ tokens: { state: string }[] }>("GET", "/v1/admin/tokens");
    expect(tokens.map((t) => t.state)).toEqual(["unused"]);
  });
});

describe("last seen", () => {
  test("is not refreshed by a look that says it is not the agent running (agent status)", async () => {
    const device = await hub.enroll();
    const enrolledAt = new Date(hub.clock.now()).toISOString();
    hub.clock.advance(60_000);

    const look = await hub.deviceFetch(device, "GET", "/v1/config", undefined, {
      headers: { "x-fleetsync-presence": "none" },
    });
    expect(look.status).toBe(200);
    expect((await devicesListed())[0]).toMatchObject({ lastSeenAt: enrolledAt });

    await hub.deviceFetch(device, "GET", "/v1/config");
    expect((await devicesListed())[0]).toMatchObject({ lastSeenAt: new Date(hub.clock.now()).toISOString() });
  });
});
